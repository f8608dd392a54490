"""Notification after a verified death, against the real broker and database: the contact
(PersonContact ``deceased_on``) stops every message to the deceased's number except what the
family must know (``CHS_STILL_SENT_AFTER_DEATH``); a withheld message ends undeliverable with
its reason, never silently."""

import asyncio
from datetime import date

import pytest

from chs_events.envelope import Envelope
from chs_events.events.contacts import PersonContact
from chs_events.topics import NOTICE_STATUS
from tests.integration.notification.test_notification import (
    TAG,
    notice,
    notice_id,
    service,
    status_change,
)
from tests.support.broker import read_topic, until
from tests.support.people import new_person_id

pytestmark = pytest.mark.integration

__all__ = ["service"]  # the fixture, shared with the service's other tests

MOBILE = "13853287654"
DIED = date(2026, 3, 10)
CLAIM_PAID = {"amount": "1,280.00", "invoice_no": "37020012345", "paid_on": "2026年3月20日"}
DEBITED = {
    "posted_on": "2026年3月15日",
    "spender": "本人",
    "merchant_kind_name": "定点药店",
    "amount_yuan": "86.50",
    "balance_yuan": "1,013.50",
}
WITHHELD = "recipient deceased on 2026-03-10: account.debited is not sent after a death"


def contact(person_id: str, deceased_on: date | None = None) -> Envelope:
    """The contact as enrollment sends it, before and after the death is verified."""
    return Envelope(
        PersonContact(
            person_id=person_id,
            name="孙立民",
            mobile=MOBILE,
            birth_date=date(1958, 6, 1),
            deceased_on=deceased_on,
        ),
        source="/chs/enrollment",
    )


async def test_after_a_death_only_what_the_family_must_know_is_sent(service):
    dead = new_person_id()
    debited = notice(dead, template_id="account.debited", params=DEBITED)
    claim_paid = notice(dead, template_id="reimbursement.claim_paid", params=CLAIM_PAID)
    async with service() as notification:
        notification.start()
        await notification.publish(contact(dead, DIED))

        async def known():
            rows = await notification.fetch(
                "select deceased_on from contacts where person_id = $1", dead
            )
            return rows and rows[0]["deceased_on"] == DIED

        await until(known, timeout=30)
        await notification.publish(debited, claim_paid)
        messages = await notification.wait_final(2)
        await asyncio.sleep(1.0)  # time for a wrong SMS to show up
        sms = await notification.sms()
        notification.start_relay()
        status = await read_topic(
            notification.settings.kafka_bootstrap,
            notification.settings.topic(NOTICE_STATUS),
            expected=3,
        )

    withheld = messages[notice_id(debited)]
    assert (withheld["status"], withheld["last_error"]) == ("undeliverable", WITHHELD)
    assert withheld["attempts"] == 0 and withheld["text"] is None
    assert messages[notice_id(claim_paid)]["status"] == "delivered"
    assert [(row["mobile"], row["text"]) for row in sms] == [
        (
            MOBILE,
            f"{TAG}孙立民的报销款1,280.00元2026年3月20日发了，请查收。",  # 60 and over
        )
    ]
    events = [Envelope.from_record(r.key, r.value, r.headers) for r in status]
    [undeliverable] = [e for e in events if notice_id(e) == notice_id(debited)]
    assert undeliverable.type == "chs.notices.undeliverable.v1"
    assert status_change(undeliverable).reason == WITHHELD
    assert undeliverable.causation_id == debited.id


async def test_a_message_queued_before_the_death_was_known_is_withheld_when_it_is(service):
    dead = new_person_id()
    debited = notice(dead, template_id="account.debited", params=DEBITED)
    async with service() as notification:
        notification.start_consumers()  # no dispatcher yet: the message stays queued
        await notification.publish(contact(dead), debited)

        async def queued():
            return notice_id(debited) in await notification.messages()

        await until(queued, timeout=30)
        await notification.publish(contact(dead, DIED))
        messages = await notification.wait_final(1)
        notification.start_dispatcher()
        await asyncio.sleep(1.5)  # a dispatcher would have sent it by now
        sms = await notification.sms()

    withheld = messages[notice_id(debited)]
    assert (withheld["status"], withheld["last_error"]) == ("undeliverable", WITHHELD)
    assert sms == []
