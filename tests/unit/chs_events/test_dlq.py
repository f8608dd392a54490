"""The dead-letter tool's reading of records, selection and masked output (no broker)."""

from datetime import UTC, date, datetime, timedelta

import orjson
import pytest

from chs_events.deadletter import dead_letter_headers
from chs_events.dlq import (
    REDRIVE_OF,
    REDRIVEN_FROM,
    REDRIVEN_TO,
    DeadLetter,
    DeadLetters,
    Selection,
    masked_reason,
    shown,
    table,
)
from chs_events.envelope import Envelope
from chs_events.events.contacts import PendingMobile, PersonContact

pytestmark = pytest.mark.unit

DLQ = "chs.enrollment.contacts.dlq"
NAME, MOBILE, NEW_MOBILE, ID_NUMBER = "张三丰", "13853215678", "13912345678", "370202199001011234"


def contact() -> Envelope:
    return Envelope(
        PersonContact(
            person_id="p1",
            name=NAME,
            mobile=MOBILE,
            birth_date=date(1990, 1, 1),
            pending=PendingMobile(
                mobile=NEW_MOBILE,
                code="123456",
                expires_at=datetime(2026, 1, 1, tzinfo=UTC),
            ),
        ),
        source="/chs/enrollment",
    )


def dead_letter(envelope: Envelope, *, offset: int = 7, consumer: str = "notification-directory"):
    record = envelope.to_record()
    reason = (
        f"1 validation error for PersonContact\nname\n  input_value='{NAME}', input_type=str]"
        f" (id {ID_NUMBER}, mobile {MOBILE})"
    )
    headers = dead_letter_headers(
        record.headers,
        error=RuntimeError(reason),
        consumer=consumer,
        topic="chs.enrollment.contacts",
        partition=3,
        offset=41,
        attempts=5,
    )
    return DeadLetter(DLQ, 1, offset, record.key, record.value, tuple(headers))


def test_the_table_says_where_and_why_without_personal_data():
    envelope = contact()
    letter = dead_letter(envelope)
    found = DeadLetters()
    found.add(letter)
    head, line = table(found, found.letters)
    assert head.split() == [
        "FAILED", "AT", "CONSUMER", "SOURCE", "TYPE", "EVENT", "ID", "DLQ", "REDRIVEN", "REASON"
    ]  # fmt: skip
    for shown_value in (
        "notification-directory",
        "chs.enrollment.contacts:3:41",
        PersonContact.ce_type,
        envelope.id,
        "1:7",
        "138****5678",
        "3702**********1234",
    ):
        assert shown_value in line
    for personal in (NAME, MOBILE, ID_NUMBER):
        assert personal not in line


def test_show_masks_names_mobiles_and_one_time_codes():
    envelope = contact()
    document = shown(DeadLetters(), dead_letter(envelope))
    text = orjson.dumps(document).decode()
    for personal in (NAME, MOBILE, NEW_MOBILE, "123456", ID_NUMBER):
        assert personal not in text
    assert document["value"]["name"] == "张**"
    assert document["value"]["mobile"] == "138****5678"
    assert document["value"]["pending"]["code"] == "******"
    assert document["headers"]["ce_id"] == envelope.id
    assert document["headers"]["dlq_consumer"] == "notification-directory"
    assert document["key"] == "p1" and document["redriven"] is None


def test_a_marker_says_a_dead_letter_was_redriven():
    letter = dead_letter(contact())
    marker = DeadLetter(
        DLQ,
        1,
        9,
        letter.key,
        None,
        ((REDRIVE_OF, b"1:7"), (REDRIVEN_TO, b"chs.enrollment.contacts:3:99")),
    )
    found = DeadLetters()
    for record in (letter, marker):
        found.add(record)
    assert found.letters == [letter] and found.was_redriven(letter)
    assert found.selected(Selection(), pending_only=True) == []
    assert shown(found, letter)["redriven"]["to"] == "chs.enrollment.contacts:3:99"
    assert "redriven" in table(found, found.letters)[1]


def test_the_republished_record_is_the_original_with_where_it_was_redriven_from():
    envelope = contact()
    letter = dead_letter(envelope)
    headers = letter.republished_headers()
    assert headers[:-1] == envelope.to_record().headers
    assert headers[-1] == (REDRIVEN_FROM, f"{DLQ}:1:7".encode())
    assert (letter.source_topic, letter.source_partition) == ("chs.enrollment.contacts", 3)
    again = DeadLetter(DLQ, 1, 8, letter.key, letter.value, (*headers, *letter.headers[-8:]))
    assert again.republished_headers() == [*headers[:-1], (REDRIVEN_FROM, f"{DLQ}:1:8".encode())]


def test_selection_by_consumer_time_and_event_id():
    letter = dead_letter(contact())
    failed_at = letter.failed_at
    assert failed_at is not None
    assert Selection().matches(letter) and Selection().everything
    assert Selection(consumers=("notification-directory",)).matches(letter)
    assert not Selection(consumers=("notification-requests",)).matches(letter)
    assert Selection(since=failed_at - timedelta(seconds=1)).matches(letter)
    assert not Selection(since=failed_at + timedelta(seconds=1)).matches(letter)
    assert Selection(until=failed_at + timedelta(seconds=1)).matches(letter)
    assert not Selection(until=failed_at).matches(letter)
    assert not Selection(event_ids=("another",)).matches(letter)


def test_pydantic_input_values_are_left_out_of_reasons():
    assert masked_reason(f"input_value='{NAME}', input_type=str") == (
        "input_value=***, input_type=str"
    )
    assert masked_reason(f"mobile {MOBILE}") == "mobile 138****5678"
