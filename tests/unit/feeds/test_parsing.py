"""Batch bodies read a chunk at a time (``chs_feeds.parsing``): CSV with its header and quoted
fields, JSON Lines, the line numbers a report points at, the bounds. No I/O."""

import pytest

from chs_feeds.parsing import (
    CSV,
    JSONL,
    Record,
    RecordReader,
    UnknownFormat,
    UnsupportedMediaType,
    format_of,
)

pytestmark = pytest.mark.unit

FIELDS = ("id_number", "date_of_death", "source", "region_code")
HEADER = b"id_number,date_of_death,source,region_code\n"


def read(body: bytes, format: str = CSV, *, chunk: int = 7, max_line: int = 200) -> list[Record]:
    """The records of ``body`` fed ``chunk`` bytes at a time (lines split across chunks)."""
    reader = RecordReader(format, FIELDS, max_line_bytes=max_line)  # type: ignore[arg-type]
    records = []
    for start in range(0, len(body), chunk):
        records += reader.feed(body[start : start + chunk])
    return records + reader.end()


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/csv", CSV),
        ("text/csv; charset=utf-8", CSV),
        ("Text/CSV;charset=UTF-8", CSV),
        ("application/x-ndjson", JSONL),
        ("application/jsonl", JSONL),
    ],
)
def test_the_content_type_names_the_format(content_type: str, expected: str) -> None:
    assert format_of(content_type) == expected


@pytest.mark.parametrize(
    "content_type",
    [None, "", "application/json", "application/xml", "text/plain", "text/csv; charset=gbk"],
)
def test_any_other_content_type_is_unsupported(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        format_of(content_type)


def test_csv_records_by_the_header_with_their_line_numbers() -> None:
    body = HEADER + b"A,2026-01-02,police,370200\r\n\n  \nB,2026-01-03,health,370783"
    assert read(body) == [
        Record(2, {"id_number": "A", "date_of_death": "2026-01-02", "source": "police",
                   "region_code": "370200"}),
        Record(5, {"id_number": "B", "date_of_death": "2026-01-03", "source": "health",
                   "region_code": "370783"}),
    ]  # fmt: skip


def test_the_header_is_read_in_any_order_and_case_with_a_bom_and_more_columns() -> None:
    body = "\ufeffRegion_Code, ID_NUMBER ,name,source,date_of_death\n370200,A,张三,police,x\n"
    [record] = read(body.encode())
    assert record.fields == {
        "region_code": "370200",
        "id_number": "A",
        "name": "张三",
        "source": "police",
        "date_of_death": "x",
    }


def test_a_quoted_field_may_hold_commas_quotes_and_line_breaks() -> None:
    body = HEADER + b'"A",2026-01-02,"po,""li""\nce",370200\nB,2026-01-03,health,370783\n'
    first, second = read(body, chunk=3)
    assert first.line == 2
    assert first.fields is not None and first.fields["source"] == 'po,"li"\nce'
    assert second.line == 4


def test_a_record_with_the_wrong_number_of_fields_is_a_rejected_line() -> None:
    [record] = read(HEADER + b"A,2026-01-02,police\n")
    assert record == Record(2, error="3 fields, the header names 4")


def test_an_unclosed_quote_at_the_end_is_a_rejected_line() -> None:
    [record] = read(HEADER + b'A,"2026-01-02,police,370200\n')
    assert record == Record(2, error="a quoted field is not closed")


def test_a_line_that_is_not_utf8_is_rejected_and_the_next_is_read() -> None:
    records = read(HEADER + "A,2026-01-02,公安,370200\n".encode("gbk") + b"B,x,police,370200\n")
    assert records[0] == Record(2, error="not UTF-8")
    assert records[1].line == 3 and records[1].fields is not None


def test_an_overlong_line_is_rejected_without_being_kept() -> None:
    body = HEADER + b"A," + b"9" * 5000 + b",police,370200\nB,2026-01-03,health,370783\n"
    records = read(body, chunk=64, max_line=100)
    assert records[0] == Record(2, error="longer than 100 bytes")
    assert records[1].line == 3 and records[1].fields is not None


@pytest.mark.parametrize(
    ("header", "missing"),
    [(b"id_number,source,region_code\n", "date_of_death"), (b"a;b;c;d\n", "id_number")],
)
def test_a_header_without_a_needed_column_is_an_unknown_format(header: bytes, missing: str) -> None:
    with pytest.raises(UnknownFormat, match=missing):
        read(header + b"A,police,370200\n")


def test_a_header_naming_a_column_twice_is_an_unknown_format() -> None:
    with pytest.raises(UnknownFormat, match="twice"):
        read(b"id_number,id_number,date_of_death,source,region_code\n")


@pytest.mark.parametrize("format", [CSV, JSONL])
@pytest.mark.parametrize("body", [b"", b"\n\n  \n"])
def test_an_empty_body_is_an_unknown_format(format: str, body: bytes) -> None:
    with pytest.raises(UnknownFormat):
        read(body, format)


def test_a_csv_of_a_header_alone_holds_no_record() -> None:
    assert read(HEADER) == []


def test_json_lines_each_an_object() -> None:
    body = (
        b'{"id_number": "A", "region_code": 370200}\n'
        b"\n"
        b"[1, 2]\n"
        b'{"id_number": "B",\n'
        b'\xef\xbb\xbf{"x": 1}\n'
    )
    assert read(body, JSONL, chunk=5) == [
        Record(1, {"id_number": "A", "region_code": 370200}),
        Record(3, error="not a JSON object"),
        Record(4, error="not JSON (Expecting property name enclosed in double quotes at "
                        "column 19)"),
        Record(5, error="not JSON (Unexpected UTF-8 BOM (decode using utf-8-sig) at column 1)"),
    ]  # fmt: skip


def test_a_bom_is_allowed_on_the_first_json_line() -> None:
    assert read(b'\xef\xbb\xbf{"a": 1}\n', JSONL) == [Record(1, {"a": 1})]


def test_lines_read_counts_the_physical_lines() -> None:
    reader = RecordReader(CSV, FIELDS, max_line_bytes=100)
    reader.feed(HEADER + b"A,2026-01-02,police,370200\nB,")
    assert reader.lines_read == 2
