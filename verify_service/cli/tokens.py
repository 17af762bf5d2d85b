from __future__ import annotations

import datetime as dt
import re

import click
from flask.cli import AppGroup

from verify_service import clock
from verify_service.cli import unit_of_work
from verify_service.services import tokens as token_service


def _parse_expiry(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    m = re.fullmatch(r"(\d+)([dh])", value.strip())
    if m:
        n = int(m.group(1))
        return clock.now() + (dt.timedelta(days=n) if m.group(2) == "d" else dt.timedelta(hours=n))
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use an ISO date/time or a duration such as 90d or 12h") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.CHINA_TZ)
    return parsed.astimezone(dt.timezone.utc)


@click.group("tokens", help="API bearer tokens.", cls=AppGroup)
def tokens_group() -> None:
    pass


@tokens_group.command("create", help="Create a token; it is printed once, alone on the last line.")
@click.option("--role", type=click.Choice(token_service.ROLES), required=True)
@click.option("--enterprise", "enterprise_uscc", help="credit code of the enterprise (enterprise tokens)")
@click.option("--name", default=None, help="what the token is for (default: role and enterprise)")
@click.option("--expires", default=None, help="ISO date/time or a duration like 90d")
@unit_of_work
def create(role: str, enterprise_uscc: str | None, name: str | None, expires: str | None) -> None:
    raw, info = token_service.create_token(
        name or f"{role}{'-' + enterprise_uscc if enterprise_uscc else ''}", role, enterprise_uscc,
        _parse_expiry(expires),
    )
    click.echo(f"token {info['id']} ({info['role']}, {info['name']}) created; it is shown only once:", err=False)
    click.echo(raw)


@tokens_group.command("list", help="List tokens (never their secret).")
@unit_of_work
def list_() -> None:
    for t in token_service.list_tokens():
        click.echo(
            f"{t['id']:>4}  {t['state']:<8} {t['role']:<10} {t['prefix']}…  {t['name']}"
            f"  enterprise={t['enterprise_uscc'] or '-'}  expires={t['expires_at'] or 'never'}"
        )


@tokens_group.command("revoke", help="Revoke a token by id.")
@click.argument("token_id", type=int)
@unit_of_work
def revoke(token_id: int) -> None:
    t = token_service.revoke_token(token_id)
    click.echo(f"token {t['id']} revoked at {t['revoked_at']}")
