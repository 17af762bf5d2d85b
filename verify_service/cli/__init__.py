"""Command-line interface (``flask --app wsgi …``); each command is one unit of work."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

import click
from flask import Flask

from verify_service import db
from verify_service.errors import ServiceError

F = TypeVar("F", bound=Callable[..., Any])


def unit_of_work(fn: F) -> F:
    """Commit when the command succeeds; turn a ServiceError into a clear message and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except ServiceError as exc:
            db.rollback()
            details = exc.details if isinstance(exc.details, list) else []
            lines = [f"error: {exc.message}"] + [f"  {d}" for d in details[:50]]
            raise click.ClickException("\n".join(lines)) from None
        db.commit()
        return result

    return wrapper  # type: ignore[return-value]


def register_commands(app: Flask) -> None:
    from verify_service.cli import database, demo, keys, registry, tokens

    for group in (database.db_group, tokens.tokens_group, registry.registry_group, demo.demo_command):
        app.cli.add_command(group)
    app.cli.add_command(keys.keys_group)
    from verify_service.cli.labels import labels_group
    app.cli.add_command(labels_group)
    from verify_service.cli.push import push_group
    app.cli.add_command(push_group)
