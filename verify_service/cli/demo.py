from __future__ import annotations

import click
from flask.cli import with_appcontext

from verify_service.cli import unit_of_work
from flask import current_app

from verify_service.services import demo, keys, tokens


@click.command("demo", help="Seed realistic sample data and print demo tokens.")
@click.option("--seed", "seed_value", default=20211, show_default=True, help="random seed (same seed, same data)")
@click.option("--tokens/--no-tokens", "make_tokens", default=True, help="create demo tokens and print them")
@with_appcontext
@unit_of_work
def demo_command(seed_value: int, make_tokens: bool) -> None:
    result = demo.seed(seed_value)
    if result["seeded"]:
        click.echo(f"seeded {result['enterprises']} enterprises and {result['certificates']} certificates")
        if not result["signing"]:
            click.echo("no signing key created: set LABEL_KEY_PASSPHRASE to issue sample labels")
    else:
        click.echo(f"sample data not seeded again: {result['reason']}")
    if keys.records() and current_app.config["LABEL_KEY_PASSPHRASE"]:
        for verdict, url in demo.sample_urls().items():
            click.echo(f"sample label ({verdict}): {url}")
    if make_tokens:
        for role, uscc in demo.demo_token_owners():
            raw, _info = tokens.create_token(f"demo-{role}", role, uscc)
            click.echo(f"demo {role} token{' for ' + uscc if uscc else ''}: {raw}")
