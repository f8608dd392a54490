import uuid
from datetime import UTC, date, datetime

import pytest

from chs_events.envelope import Envelope
from chs_events.events.enrollment import (
    ContactChanged,
    ContributionPaid,
    EnrollmentRegistered,
    EnrollmentTerminated,
    NewbornEnrolled,
    PersonRegistered,
    StaffAdded,
)
from chs_events.events.notices import NoticeRequested, notice_id
from chs_events.vocabulary import yuan
from chs_progress_notices.rules import (
    BUSINESS_PARAMS,
    DIRECTORY_PARAMS,
    REFERENCE_PARAMS,
    notices_for,
)
from chs_progress_notices.rules.formatting import period_text

pytestmark = pytest.mark.unit

PERSON = "a" * 64
GUARDIAN = "b" * 64
NEWBORN = "c" * 64


def envelope(event, event_id: str | None = None) -> Envelope:
    if event_id is None:
        return Envelope(event, source="/chs/enrollment")
    return Envelope(event, source="/chs/enrollment", id=event_id)


def only(notices: list[NoticeRequested]) -> NoticeRequested:
    assert len(notices) == 1
    return notices[0]


def registered(**overrides) -> EnrollmentRegistered:
    fields = {
        "person_id": PERSON,
        "enrollment_id": "E1",
        "insutype": "310",
        "pooling_region": "370200",
        "start_date": date(2026, 11, 1),
        "employer_id": "EMP1",
        "employer_name": "青岛某公司",
        "contribution_base_fen": 800000,
    }
    return EnrollmentRegistered(**{**fields, **overrides})


def test_enrollment_registered():
    source = envelope(registered())
    notice = only(notices_for(source))
    assert notice.person_id == PERSON
    assert notice.template_id == "enrollment.registered"
    assert notice.params == {
        "insutype_name": "职工基本医疗保险",
        "region_name": "青岛市",
        "start_date": "2026-11-01",
    }
    assert notice.category == "business_result"
    assert notice.priority == "high"
    assert notice.notice_id == notice_id(source.id, "enrollment.registered", PERSON)


def test_enrollment_registered_resident_in_a_county():
    notice = only(
        notices_for(
            envelope(
                registered(
                    insutype="390",
                    pooling_region="370783",
                    employer_id=None,
                    employer_name=None,
                    contribution_base_fen=None,
                )
            )
        )
    )
    assert notice.params["insutype_name"] == "城乡居民基本医疗保险"
    assert notice.params["region_name"] == "寿光市"


@pytest.mark.parametrize(
    ("reason", "text"),
    [("left_employer", "用人单位办理减员"), ("moved", "参保关系转出"), ("other", "其他原因")],
)
def test_enrollment_terminated(reason, text):
    event = EnrollmentTerminated(
        person_id=PERSON,
        enrollment_id="E1",
        insutype="390",
        end_date=date(2026, 12, 31),
        reason=reason,
    )
    notice = only(notices_for(envelope(event)))
    assert notice.person_id == PERSON
    assert notice.template_id == "enrollment.terminated"
    assert notice.params == {
        "insutype_name": "城乡居民基本医疗保险",
        "end_date": "2026-12-31",
        "reason": text,
    }


def test_no_termination_notice_to_a_person_who_died():
    event = EnrollmentTerminated(
        person_id=PERSON,
        enrollment_id="E1",
        insutype="310",
        end_date=date(2026, 12, 31),
        reason="death",
    )
    assert notices_for(envelope(event)) == []


def test_newborn_notice_goes_to_the_guardian():
    event = NewbornEnrolled(
        person_id=NEWBORN,
        enrollment_id="E9",
        guardian_person_id=GUARDIAN,
        birth_date=date(2026, 11, 20),
        pooling_region="370102",
        start_date=date(2026, 11, 20),
    )
    source = envelope(event)
    notice = only(notices_for(source))
    assert notice.person_id == GUARDIAN
    assert notice.template_id == "enrollment.newborn_enrolled"
    assert notice.params == {
        "newborn_person_id": NEWBORN,  # notification fills the newborn's name by it
        "region_name": "历下区",
        "start_date": "2026-11-20",
    }
    assert notice.notice_id == notice_id(source.id, "enrollment.newborn_enrolled", GUARDIAN)


def test_enrollment_at_birth_leaves_the_notice_to_the_newborn_event():
    event = EnrollmentRegistered(
        person_id=NEWBORN,
        enrollment_id="E9",
        insutype="390",
        pooling_region="370102",
        start_date=date(2026, 11, 20),
        at_birth=True,
    )
    assert notices_for(envelope(event)) == []


def test_contribution_paid():
    event = ContributionPaid(
        person_id=PERSON,
        payment_id="P1",
        enrollment_id="E1",
        insutype="310",
        period="202611",
        amount_fen=123456,
        employer_part_fen=98765,
        personal_part_fen=24691,
        paid_at=datetime(2026, 11, 15, 2, 0, tzinfo=UTC),
    )
    notice = only(notices_for(envelope(event)))
    assert notice.person_id == PERSON
    assert notice.template_id == "enrollment.contribution_paid"
    assert notice.params == {
        "period": "2026年11月",
        "amount_yuan": "1234.56",
        "insutype_name": "职工基本医疗保险",
    }


def test_contact_changed_asks_for_no_notice_notification_tells_the_previous_number():
    # The shared topic carries no mobile; notification, which knows the numbers, tells the
    # previous one when it applies the new contact.
    assert notices_for(envelope(ContactChanged(person_id=PERSON))) == []
    assert "enrollment.contact_changed" not in BUSINESS_PARAMS


@pytest.mark.parametrize(
    "event",
    [
        PersonRegistered(
            person_id=PERSON,
            sex="M",
            birth_date=date(1990, 1, 1),
            region_code="370202",
        ),
        ContactChanged(person_id=PERSON),
        StaffAdded(
            person_id=PERSON,
            employer_id="EMP1",
            enrollment_id="E1",
            contribution_base_fen=500000,
            start_date=date(2026, 11, 1),
        ),
    ],
)
def test_other_event_types_ask_for_no_notice(event):
    assert notices_for(envelope(event)) == []


def test_notice_id_is_deterministic_per_source_event():
    event_id = "0193a0f0-0000-7000-8000-000000000001"
    first = only(notices_for(envelope(registered(), event_id)))
    redelivered = only(notices_for(envelope(registered(), event_id)))
    other = only(notices_for(envelope(registered(), "0193a0f0-0000-7000-8000-000000000002")))
    assert first.notice_id == redelivered.notice_id
    assert first.notice_id != other.notice_id
    assert uuid.UUID(first.notice_id).version == 5


def test_notice_id_depends_on_template_and_recipient():
    ids = {
        notice_id("e1", "enrollment.registered", PERSON),
        notice_id("e1", "enrollment.terminated", PERSON),
        notice_id("e1", "enrollment.registered", GUARDIAN),
    }
    assert len(ids) == 3
    # Pinned: changing the namespace or the name format would re-send redelivered notices.
    assert notice_id("e1", "enrollment.registered", "p1") == str(
        uuid.uuid5(uuid.UUID("6f0b6c1e-3d64-5b7a-9a52-2c1c4c0e9d31"), "e1:enrollment.registered:p1")
    )


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (10, "0.10"),
        (100, "1.00"),
        (123456, "1234.56"),
        (100000000001, "1000000000.01"),
        (-250, "-2.50"),
    ],
)
def test_yuan(fen, text):
    assert yuan(fen) == text


@pytest.mark.parametrize("amount", [12.5, True, "100"])
def test_yuan_refuses_anything_but_integer_fen(amount):
    with pytest.raises(TypeError):
        yuan(amount)


def test_period_text():
    assert period_text("202601") == "2026年1月"
    assert period_text("202612") == "2026年12月"


def test_params_plus_directory_params_are_exactly_the_templates_params():
    templates = pytest.importorskip("chs_notification.templates")
    assert set(BUSINESS_PARAMS) == set(DIRECTORY_PARAMS)
    for template_id, business in BUSINESS_PARAMS.items():
        declared = set(templates.get_template(template_id).params)
        assert business | DIRECTORY_PARAMS[template_id] == declared, template_id
        assert not business & DIRECTORY_PARAMS[template_id]


@pytest.mark.parametrize(
    "event",
    [
        registered(),
        EnrollmentTerminated(
            person_id=PERSON,
            enrollment_id="E1",
            insutype="310",
            end_date=date(2026, 12, 31),
            reason="moved",
        ),
        NewbornEnrolled(
            person_id=NEWBORN,
            enrollment_id="E9",
            guardian_person_id=GUARDIAN,
            birth_date=date(2026, 11, 20),
            pooling_region="370200",
            start_date=date(2026, 11, 20),
        ),
        ContributionPaid(
            person_id=PERSON,
            payment_id="P1",
            enrollment_id="E1",
            insutype="390",
            period="202611",
            amount_fen=38000,
            employer_part_fen=0,
            personal_part_fen=38000,
            paid_at=datetime(2026, 11, 15, tzinfo=UTC),
        ),
    ],
)
def test_every_notice_sends_exactly_its_business_params(event):
    notice = only(notices_for(envelope(event)))
    references = REFERENCE_PARAMS.get(notice.template_id, frozenset())
    assert set(notice.params) == BUSINESS_PARAMS[notice.template_id] | references
    assert all(isinstance(value, str) and value for value in notice.params.values())
