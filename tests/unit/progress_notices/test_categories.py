"""The progress notices' category: the account's notices left for the account-notice processor.
No I/O."""

from datetime import UTC, datetime

import pytest

from chs_events.envelope import Envelope
from chs_events.events.account import AccountCredited
from chs_events.events.enrollment import EnrollmentRegistered
from chs_events.topics import ACCOUNT_EVENTS
from chs_progress_notices.rules import BUSINESS_PARAMS, SOURCE_TOPICS, notices_for

pytestmark = pytest.mark.unit

HOLDER = "p" + "a" * 32
AT = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)


def test_areas_without_their_own_category_stay_business_results():
    event = EnrollmentRegistered(
        person_id=HOLDER,
        enrollment_id="E1",
        insutype="310",
        pooling_region="370200",
        start_date=AT.date(),
    )
    assert {n.category for n in notices_for(Envelope(event, source="/chs/enrollment"))} == {
        "business_result"
    }


def test_the_account_notices_are_the_account_notice_processor_s():
    assert ACCOUNT_EVENTS not in SOURCE_TOPICS
    assert not [t for t in BUSINESS_PARAMS if t.startswith("account.")]
    credited = AccountCredited(
        person_id=HOLDER,
        account_id="A1",
        transaction_id="T1",
        posted_at=AT,
        amount_fen=100,
        balance_after_fen=100,
        payment_id="pay-1",
        period="202610",
        rule_id="R",
    )
    assert notices_for(Envelope(credited, source="/chs/accounts")) == []
