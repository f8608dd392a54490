"""Batch bodies read as they arrive, a chunk of bytes at a time: CSV (RFC 4180, the first record
names the columns) or JSON Lines (one object a line), UTF-8.

``RecordReader.feed(chunk)`` returns the records the chunk completed and keeps only the
unfinished line; ``end()`` the last one. Nothing here holds more than one line (one CSV record,
which a quoted field may spread over lines) beyond what it returns: a line longer than
``max_line_bytes`` is skipped to its end and answered as a rejected line. Each record carries
the number of the (first) physical line it stands on, 1 for the CSV header, so the per-line
report points at the uploader's own file. Blank lines are no records.

A body that is not the format it claims (a CSV header without a column the feed needs, an empty
body) raises ``UnknownFormat``. Pure: no I/O, no clock.
"""

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Format = Literal["csv", "jsonl"]
CSV: Format = "csv"
JSONL: Format = "jsonl"

# The media types a batch may be sent as (its Content-Type), and the format each names.
MEDIA_TYPES: Mapping[str, Format] = {
    "text/csv": CSV,
    "application/csv": CSV,
    "application/x-ndjson": JSONL,
    "application/jsonl": JSONL,
    "application/x-jsonlines": JSONL,
    "application/jsonlines": JSONL,
}
_BOM = "\ufeff"


class UnknownFormat(ValueError):
    """The body is not a batch of the format it claims."""


class UnsupportedMediaType(ValueError):
    """The Content-Type names no format a batch is read in."""


def format_of(content_type: str | None) -> Format:
    """The batch format a Content-Type names (``text/csv; charset=utf-8`` → csv); raises
    ``UnsupportedMediaType`` for any other type or a charset other than UTF-8."""
    if not content_type:
        raise UnsupportedMediaType("no Content-Type")
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    found = MEDIA_TYPES.get(media_type.lower())
    if found is None:
        raise UnsupportedMediaType(f"{media_type or 'an empty type'} is not a batch format")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise UnsupportedMediaType(f"charset {value.strip()} (batches are UTF-8)")
    return found


@dataclass(frozen=True)
class Record:
    """One record of the body: its fields by column name, or why it could not be read."""

    line: int
    fields: Mapping[str, Any] | None = None
    error: str | None = None


class _Lines:
    """Bytes → physical lines (without their line break), each with its number; a line over
    the bound comes out as ``None`` once its end is found, its bytes dropped as they come."""

    def __init__(self, max_line_bytes: int) -> None:
        self._max = max_line_bytes
        self._pending = bytearray()
        self._overlong = False
        self._number = 0

    @property
    def count(self) -> int:
        """The lines ended so far."""
        return self._number

    def feed(self, chunk: bytes) -> list[tuple[int, bytes | None]]:
        lines: list[tuple[int, bytes | None]] = []
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            self._add(chunk[start:end])
            lines.append(self._take())
            start = end + 1
        self._add(chunk[start:])
        return lines

    def end(self) -> list[tuple[int, bytes | None]]:
        return [self._take()] if self._pending or self._overlong else []

    def _add(self, piece: bytes) -> None:
        if self._overlong:
            return
        self._pending += piece
        if len(self._pending) > self._max + 1:  # + 1: a CR before the LF
            self._pending.clear()
            self._overlong = True

    def _take(self) -> tuple[int, bytes | None]:
        self._number += 1
        line = None if self._overlong else bytes(self._pending.removesuffix(b"\r"))
        self._pending.clear()
        self._overlong = False
        return self._number, line


def _text(raw: bytes, first: bool) -> str:
    text = raw.decode("utf-8")  # UnicodeDecodeError: the caller's rejected line
    return text.removeprefix(_BOM) if first else text


class _CsvRecords:
    """Physical lines → CSV records by the header's column names (lower case, trimmed); a
    quoted field may hold line breaks, so a record ends where its quotes are balanced."""

    def __init__(self, required: Iterable[str], max_record_bytes: int) -> None:
        self._required = tuple(required)
        self._max = max_record_bytes
        self._header: tuple[str, ...] | None = None
        self._pending: list[str] = []
        self._pending_line = 0
        self._pending_size = 0
        self._quotes = 0

    def line(self, number: int, raw: bytes | None) -> list[Record]:
        if raw is None:
            self._reset()
            return [Record(number, error=f"longer than {self._max} bytes")]
        try:
            text = _text(raw, first=number == 1)
        except UnicodeDecodeError:
            self._reset()
            return [Record(number, error="not UTF-8")]
        if not self._pending:
            self._pending_line = number
        self._pending.append(text)
        self._pending_size += len(raw) + 1
        self._quotes += text.count('"')
        if self._quotes % 2:  # inside a quoted field: the record goes on on the next line
            if self._pending_size > self._max:
                line = self._pending_line
                self._reset()
                return [Record(line, error=f"longer than {self._max} bytes")]
            return []
        record, line = "\n".join(self._pending), self._pending_line
        self._reset()
        return self._record(line, record)

    def end(self) -> list[Record]:
        if self._header is None and not self._pending:
            raise UnknownFormat("the body holds no CSV header")
        if self._pending:
            line = self._pending_line
            self._reset()
            return [Record(line, error="a quoted field is not closed")]
        return []

    def _reset(self) -> None:
        self._pending, self._pending_size, self._quotes = [], 0, 0

    def _record(self, line: int, text: str) -> list[Record]:
        if not text.strip():
            return []
        try:
            values = next(csv.reader([text], strict=True))
        except csv.Error as error:
            return [Record(line, error=f"not a CSV record ({error})")]
        if self._header is None:
            self._header = self._read_header(values)
            return []
        if len(values) != len(self._header):
            return [
                Record(line, error=f"{len(values)} fields, the header names {len(self._header)}")
            ]
        return [Record(line, dict(zip(self._header, (v.strip() for v in values), strict=True)))]

    def _read_header(self, values: list[str]) -> tuple[str, ...]:
        names = tuple(value.strip().lower() for value in values)
        if len(set(names)) != len(names):
            raise UnknownFormat("the CSV header names a column twice")
        missing = [name for name in self._required if name not in names]
        if missing:
            raise UnknownFormat(
                f"the CSV header has no column {', '.join(missing)} "
                f"(it needs {', '.join(self._required)})"
            )
        return names


class _JsonRecords:
    """Physical lines → one JSON object each."""

    def __init__(self, max_line_bytes: int) -> None:
        self._max = max_line_bytes
        self._seen = False

    def line(self, number: int, raw: bytes | None) -> list[Record]:
        if raw is None:
            self._seen = True
            return [Record(number, error=f"longer than {self._max} bytes")]
        try:
            text = _text(raw, first=number == 1)
        except UnicodeDecodeError:
            self._seen = True
            return [Record(number, error="not UTF-8")]
        if not text.strip():
            return []
        self._seen = True
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            return [Record(number, error=f"not JSON ({error.msg} at column {error.colno})")]
        if not isinstance(value, dict):
            return [Record(number, error="not a JSON object")]
        return [Record(number, value)]

    def end(self) -> list[Record]:
        if not self._seen:
            raise UnknownFormat("the body holds no JSON line")
        return []


class RecordReader:
    """The records of a batch body of ``format``, fed a chunk of bytes at a time; ``required``,
    the columns a CSV header must name."""

    def __init__(self, format: Format, required: Iterable[str], *, max_line_bytes: int) -> None:
        self._lines = _Lines(max_line_bytes)
        self._records: _CsvRecords | _JsonRecords = (
            _CsvRecords(required, max_line_bytes) if format == CSV else _JsonRecords(max_line_bytes)
        )

    @property
    def lines_read(self) -> int:
        return self._lines.count

    def feed(self, chunk: bytes) -> list[Record]:
        return [r for n, raw in self._lines.feed(chunk) for r in self._records.line(n, raw)]

    def end(self) -> list[Record]:
        records = [r for n, raw in self._lines.end() for r in self._records.line(n, raw)]
        return records + self._records.end()
