"""Reading stored uploads in chunks: CSV and JSON Lines records with the byte offset after each.

A record's end offset is where the next read starts, so a batch feeder remembers a number
and resumes exactly there after a crash, never holding the whole file.  Files are read
from Django's default storage.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.core.files.base import File
from django.core.files.storage import default_storage

from neonhub.core.errors import InvalidInput

MAX_COLUMNS = 200

# A cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets (OWASP,
# "CSV Injection"): every cell NeonHub writes that starts with one gets a leading single quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a CSV cell no spreadsheet evaluates.

    Applied to every cell, phone numbers included: an E.164 number (``+14155550100``) leaves
    as ``'+14155550100``, which spreadsheets keep as text with its ``+`` (unquoted, they turn
    it into the number 14155550100), and which ``csv_records`` reads back without the quote.
    """
    if value is None:
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else value


def _unquote_formula(value: str) -> str:
    # The inverse of spreadsheet_safe, so NeonHub's own exports import unchanged.
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def csv_line_writer() -> Callable[[Iterable[Any]], str]:
    """A function from one row's values to its CSV line, every cell made spreadsheet-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([spreadsheet_safe(v) for v in values])
        return buffer.getvalue()

    return line


class RecordError(ValueError):
    """A record that cannot be read; ``row`` is its 1-based data row number, ``field`` the
    column at fault (``"row"`` when it is the row as a whole)."""

    def __init__(self, row: int, message: str, *, field: str = "row"):
        super().__init__(message)
        self.row = row
        self.field = field


def _lines(stream: IO[bytes], position: list[int]) -> Iterator[str]:
    while True:
        raw = stream.readline()
        if not raw:
            return
        position[0] += len(raw)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the file is not UTF-8 text") from None


def csv_header(stream: IO[bytes]) -> tuple[list[str], int]:
    """The column names and the offset where data rows start."""
    stream.seek(0)
    position = [0]
    try:
        row = next(csv.reader(_lines(stream, position)), None)
    except (csv.Error, ValueError) as exc:
        raise InvalidInput.for_field(
            "file", str(exc), summary=f"The CSV header cannot be read: {exc}"
        ) from None
    names = [name.strip().lstrip("\ufeff").strip() for name in (row or [])]
    if any("\x00" in name for name in names):
        raise InvalidInput(
            "The CSV header contains a NUL character",
            details=[{"field": "file", "message": "NUL character in the header"}],
        )
    if not names or not any(names):
        raise InvalidInput.for_field(
            "file", "no header row", summary="The CSV file has no header row"
        )
    if len(names) > MAX_COLUMNS or len(set(names)) != len(names) or "" in names:
        raise InvalidInput.for_field(
            "file",
            "empty, repeated or too many column names",
            summary="CSV columns must have distinct, non-empty names (at most 200)",
        )
    return names, position[0]


def csv_records(
    stream: IO[bytes], *, columns: list[str], offset: int, first_row: int = 1
) -> Iterator[tuple[dict[str, str], int]]:
    """``(record, end offset)`` from ``offset``; blank lines are skipped.  Raises ``RecordError``."""
    stream.seek(offset)
    position = [offset]
    reader = csv.reader(_lines(stream, position))
    row_number = first_row - 1
    while True:
        row_number += 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except (csv.Error, ValueError) as exc:
            raise RecordError(row_number, str(exc)) from None
        if not values or not any(v.strip() for v in values):
            row_number -= 1
            continue
        if len(values) > len(columns):
            raise RecordError(row_number, f"{len(values)} values for {len(columns)} columns")
        values += [""] * (len(columns) - len(values))
        for name, value in zip(columns, values, strict=True):
            # PostgreSQL cannot store U+0000; refused here, it is one row's error, not a 500
            # (or a batch item that fails every minute).
            if "\x00" in value:
                raise RecordError(row_number, "must not contain NUL characters", field=name)
        yield (
            {
                name: _unquote_formula(value.strip())
                for name, value in zip(columns, values, strict=True)
            },
            position[0],
        )


def jsonl_records(stream: IO[bytes], *, offset: int) -> Iterator[tuple[Any, int]]:
    stream.seek(offset)
    position = [offset]
    for line in _lines(stream, position):
        if line.strip():
            yield json.loads(line), position[0]


def store_upload(*, folder: str, upload: File, limit: int) -> str:
    """Save an uploaded file under ``folder`` (streamed in chunks); answers its storage name."""
    if upload.size is not None and upload.size > limit:
        raise InvalidInput.for_field(
            "file", "file too large", summary=f"The file is larger than {limit} bytes"
        )
    return default_storage.save(f"{folder}/{uuid.uuid4().hex}.csv", upload)


def store_jsonl(*, folder: str, items: Iterable[Any]) -> str:
    """Write ``items`` as JSON Lines, one at a time, and save the file; answers its storage name."""
    with tempfile.SpooledTemporaryFile(max_size=1_048_576) as buffer:
        for item in items:
            buffer.write(json.dumps(item, separators=(",", ":"), default=str).encode())
            buffer.write(b"\n")
        buffer.seek(0)
        return default_storage.save(f"{folder}/{uuid.uuid4().hex}.jsonl", File(buffer))


def open_stored(name: str) -> IO[bytes]:
    return default_storage.open(name, "rb")
