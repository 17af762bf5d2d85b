from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import label_gen
from flask.cli import AppGroup

from verify_service import clock, db
from verify_service.cli import unit_of_work
from verify_service.services import issuance, offline, verification
from verify_service.services.audit import CLI_ACTOR

FORMATS = ("csv", "pdf", "svg")
SVG_FILES_MAX = 10_000


@click.group("labels", cls=AppGroup, help="Issue labels and verify label codes.")
def labels_group() -> None:
    pass


@labels_group.command("issue", help="Order a batch for a certificate's product and write its print files.")
@click.option("--certificate", "certificate_number", required=True, help="certificate number")
@click.option("--product", "product_id", type=int, required=True, help="product id (see the certificate)")
@click.option("--quantity", type=click.IntRange(1), required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="output folder")
@click.option("--formats", default="csv,pdf", show_default=True, help="comma-separated: csv, pdf, svg")
@click.option("--label-format", default=None, help="sheet format: " + ", ".join(label_gen.LABEL_FORMATS))
@click.option("--pins/--no-pins", default=False, help="add scratch-off PINs")
@click.option("--enterprise", "enterprise_uscc", default=None, help="ordering enterprise (GI authorised users); default: the holder")
@unit_of_work
def issue(certificate_number: str, product_id: int, quantity: int, out_dir: Path, formats: str,
          label_format: str | None, pins: bool, enterprise_uscc: str | None) -> None:
    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        raise click.BadParameter(f"unknown format(s) {', '.join(bad) or '(none)'}; use {', '.join(FORMATS)}", param_hint="--formats")
    if "svg" in wanted and quantity > SVG_FILES_MAX:
        raise click.BadParameter(f"svg files are for at most {SVG_FILES_MAX} labels; use pdf or csv", param_hint="--formats")
    batch = issuance.order_for_holder(certificate_number, product_id, quantity, pins=pins, label_format=label_format,
                                      enterprise_uscc=enterprise_uscc, actor=CLI_ACTOR[0])
    db.commit()  # the batch exists even if writing the files is interrupted; they can be written again
    click.echo(f"batch {batch['id']}: serials {batch['first_serial']}–{batch['last_serial']} ({quantity} labels)", err=True)
    job = issuance.print_job(batch["id"])
    db.commit()  # the job holds all it needs: end the transaction before the long write
    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt in wanted:
        path = _write(job, fmt, out_dir, batch["id"], quantity)
        click.echo(str(path))


def _write(job: issuance.PrintJob, fmt: str, out_dir: Path, batch_id: int, quantity: int) -> Path:
    with click.progressbar(length=quantity, label=f"{fmt:>4}", file=sys.stderr) as bar:
        last = [0]

        def progress(done: int, _total: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        labels = job.labels(progress=progress)
        if fmt == "csv":
            path = out_dir / f"batch-{batch_id}-manifest.csv"
            with path.open("w", encoding="utf-8", newline="") as fh:
                label_gen.write_manifest(fh, labels, pins=job.pins)
        elif fmt == "pdf":
            path = out_dir / f"batch-{batch_id}-sheets.pdf"
            with path.open("wb") as fb:
                for chunk in job.sheets_from(labels):
                    fb.write(chunk)
        else:
            path = out_dir / f"batch-{batch_id}-svg"
            path.mkdir(exist_ok=True)
            renderer = label_gen.QRRenderer(job.base_url)
            for label in labels:
                (path / f"{label.serial}.svg").write_text(renderer.svg(label.url), encoding="utf-8")
    return path


@labels_group.command("verify", help="Verify a label code or URL; prints the verdict word (exit 0 only for authentic). "
                        "With --offline BUNDLE it checks against a signed offline bundle instead of the database "
                        "(no scan is recorded; exit 2 when the bundle is unreadable, altered or expired).")
@click.argument("code_or_url")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="en", show_default=True,
              help="language of the reasons (offline reasons are always English)")
@click.option("--offline", "bundle_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="verify offline against this bundle (from GET /api/v1/offline-bundle)")
@click.option("--keys", "keys_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="trusted public key set (label-keys.json from /.well-known/label-keys.json) that must have "
                   "signed the bundle; without it the service's own public keys are read from its database")
def verify(code_or_url: str, lang: str, bundle_path: Path | None, keys_path: Path | None) -> None:
    if bundle_path is not None:
        print_verdict(_verify_offline(code_or_url, bundle_path, keys_path))
        return
    if keys_path is not None:
        raise click.UsageError("--keys is only used with --offline")
    result = verification.verify_code(code_or_url, "cli", lang=lang)
    db.commit()  # the scan is recorded whatever the verdict
    print_verdict(result.to_json())


def _verify_offline(code_or_url: str, bundle_path: Path, keys_path: Path | None) -> dict[str, Any]:
    def fail(message: str) -> click.ClickException:
        exc = click.ClickException(message)
        exc.exit_code = 2  # not a verdict: the check could not be made
        return exc

    try:
        data = bundle_path.read_bytes()
        trusted = None if keys_path is None else label_gen.load_public_key_set(keys_path.read_bytes())
    except OSError as exc:
        raise fail(f"cannot read {exc.filename}: {exc.strerror}") from None
    except label_gen.KeyRingError as exc:
        raise fail(f"{keys_path}: {exc}") from None
    try:
        bundle = offline.open_bundle(data, trusted)
        return bundle.verify(code_or_url, clock.now()).to_json()
    except label_gen.BundleExpired as exc:
        raise fail(f"offline bundle expired at {exc.expires_at.isoformat()}: fetch a new one") from None
    except label_gen.BundleError as exc:
        raise fail(f"offline bundle refused: {exc}") from None


def print_verdict(v: dict[str, Any]) -> None:
    """The verdict word alone on standard output, reasons on standard error; exit 1 unless authentic."""
    click.echo(v["verdict"])
    for reason in v["reasons"]:
        click.echo(f"  - {reason['message']}", err=True)
    if v.get("certificate"):
        c = v["certificate"]
        click.echo(f"  certificate {c['number']} ({c['programme']}): {c['status']}", err=True)
    if v["verdict"] != "authentic":
        raise SystemExit(1)
