from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from verify_service.cli import unit_of_work
from verify_service.services import keys
from verify_service.services.audit import CLI_ACTOR


@click.group("keys", cls=AppGroup, help="Label signing keys (Ed25519; private keys stored encrypted).")
def keys_group() -> None:
    pass


@keys_group.command("create", help="Create an active signing key (the first one, or an extra one).")
@click.option("--valid-to", type=click.DateTime(), default=None, help="last moment the key may sign (UTC)")
@unit_of_work
def create(valid_to: dt.datetime | None) -> None:
    record = keys.create_key(*CLI_ACTOR, valid_to=valid_to.replace(tzinfo=dt.timezone.utc) if valid_to else None)
    click.echo(f"created key {record.kid} (active)")


@keys_group.command("list", help="List keys with their status and validity (never private keys).")
@unit_of_work
def list_() -> None:
    records = keys.records()
    if not records:
        click.echo("no signing keys: run 'keys create'")
    for record in records:
        click.echo(keys.describe(record))


@keys_group.command("rotate", help="Create a new active key and retire the current one (old labels keep verifying).")
@unit_of_work
def rotate() -> None:
    record = keys.rotate(*CLI_ACTOR)
    click.echo(f"key {record.kid} is now the active signing key; previous keys are retired")


@keys_group.command("retire", help="Stop signing with KID; its labels keep verifying.")
@click.argument("kid")
@unit_of_work
def retire(kid: str) -> None:
    keys.retire(kid, *CLI_ACTOR)
    click.echo(f"key {kid} retired")


@keys_group.command("revoke", help="Revoke KID (compromised): its labels count as counterfeit unless issued before --at.")
@click.argument("kid")
@click.option("--at", "at", type=click.DateTime(), default=None, help="revocation time, UTC (default: now)")
@unit_of_work
def revoke(kid: str, at: dt.datetime | None) -> None:
    record = keys.revoke(kid, *CLI_ACTOR, at=at.replace(tzinfo=dt.timezone.utc) if at else None)
    click.echo(f"key {kid} revoked at {record.revoked_at.isoformat() if record.revoked_at else ''}")
