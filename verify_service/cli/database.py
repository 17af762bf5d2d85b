from __future__ import annotations

import click
from flask.cli import AppGroup
from flask import current_app

from verify_service import migrate


def _url() -> str:
    return str(current_app.config["DATABASE_URL"])


@click.group("db", help="Database schema (Alembic migrations).", cls=AppGroup)
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Apply migrations up to REVISION (default: head).")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    migrate.upgrade(_url(), revision)
    click.echo(f"database at revision {migrate.head_revision(_url()) if revision == 'head' else revision}")


@db_group.command("downgrade", help="Revert migrations down to REVISION.")
@click.argument("revision")
def downgrade(revision: str) -> None:
    migrate.downgrade(_url(), revision)


@db_group.command("current", help="Show the database's revision and the newest one.")
def current() -> None:
    from verify_service.db import database

    click.echo(f"current: {migrate.current_revision(database().engine)}  head: {migrate.head_revision(_url())}")


@db_group.command("check", help="Fail if the models and the migrations disagree.")
def check() -> None:
    migrate.check(_url())
    click.echo("models and migrations agree")
