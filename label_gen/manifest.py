"""CSV manifests for label printers: UTF-8, header row, ``serial,url[,pin]``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import TextIO

from label_gen.bulk import Label

MANIFEST_COLUMNS = ("serial", "url")
PIN_COLUMN = "pin"


def iter_manifest(
    labels: Iterable[Label], *, pins: bool = False, rows_per_chunk: int = 1000
) -> Iterator[str]:
    """Yield the manifest as text chunks (header first), a few rows at a time.

    Suitable for a streamed HTTP response: memory stays constant however many
    labels the iterable produces. With ``pins`` every label must carry a PIN.
    """
    buffer = io.StringIO()
    # lineterminator "\r\n" is RFC 4180, which label-printer software expects.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow((*MANIFEST_COLUMNS, PIN_COLUMN) if pins else MANIFEST_COLUMNS)
    rows = 0
    for label in labels:
        if pins:
            if label.pin is None:
                raise ValueError(f"label {label.serial} has no PIN")
            writer.writerow((label.serial, label.url, label.pin))
        else:
            writer.writerow((label.serial, label.url))
        rows += 1
        if rows == rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            rows = 0
    tail = buffer.getvalue()
    if tail:
        yield tail


def write_manifest(out: TextIO, labels: Iterable[Label], *, pins: bool = False) -> int:
    """Write the manifest to a text file opened with ``encoding="utf-8", newline=""``.

    Returns the number of characters written.
    """
    written = 0
    for chunk in iter_manifest(labels, pins=pins):
        written += out.write(chunk)
    return written
