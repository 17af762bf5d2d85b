from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from verify_service.cli import unit_of_work
from verify_service.services import importer
from verify_service.services.audit import CLI_ACTOR


@click.group("registry", help="Certificate registry.", cls=AppGroup)
def registry_group() -> None:
    pass


@registry_group.command("import", help="Import enterprises, certificates and products from a CSV or JSON file (all or nothing).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="file format (default: from the file name's extension)")
@unit_of_work
def import_(file: Path, fmt: str | None) -> None:
    fmt = fmt or file.suffix.lower().lstrip(".")
    rows = importer.read_rows(file.read_bytes(), fmt)
    s = importer.import_rows(rows, *CLI_ACTOR)
    click.echo(
        f"imported {s.rows} rows: enterprises {s.enterprises_created} created, {s.enterprises_updated} updated; "
        f"certificates {s.certificates_created} created, {s.certificates_updated} updated; {s.unchanged} unchanged"
    )
