"""The events a push profile is folded from, built with what a test changes (the rest a Qingdao
person's ordinary registration, enrollment, certification, filing or allowance)."""

import secrets
from datetime import UTC, date, datetime
from typing import Any

from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.events.chronic import ChronicCertified, ChronicRevoked
from chs_events.events.enrollment import (
    EnrollmentRegistered,
    EnrollmentTerminated,
    NewbornEnrolled,
    PersonDeceased,
    PersonRegistered,
    PoolingRegionChanged,
    StaffAdded,
    StaffRemoved,
)
from chs_events.events.feeds import DeathCorrected, DeathRecorded
from chs_events.events.maternity import MaternityAllowanceApproved, MaternityAllowanceCancelled
from chs_events.events.notices import PushPreferenceChanged
from chs_events.events.remote_care import RemoteCareExpired, RemoteCareFiled, RemoteCareRevoked

QINGDAO = "370202"
JINAN = "370102"
START = date(2020, 1, 1)


def new_person() -> str:
    return "p" + secrets.token_hex(16)


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(6)


def envelope(event: Event) -> Envelope:
    return Envelope(event, source=f"/chs/{event.producer}")


def registered(
    person_id: str, birth: date = date(1980, 5, 1), sex: str = "F", region: str = QINGDAO
) -> PersonRegistered:
    return PersonRegistered(person_id=person_id, sex=sex, birth_date=birth, region_code=region)


def enrolled(
    person_id: str,
    insutype: str = "310",
    region: str = QINGDAO,
    employer_id: str | None = "E3702001",
    enrollment_id: str | None = None,
    start: date = START,
) -> EnrollmentRegistered:
    return EnrollmentRegistered(
        person_id=person_id,
        enrollment_id=enrollment_id or new_id("EN"),
        insutype=insutype,
        pooling_region=region,
        start_date=start,
        employer_id=employer_id if insutype == "310" else None,
    )


def terminated(
    person_id: str, enrollment_id: str, reason: str = "left_employer", end: date = date(2026, 1, 1)
) -> EnrollmentTerminated:
    return EnrollmentTerminated(
        person_id=person_id,
        enrollment_id=enrollment_id,
        insutype="310",
        end_date=end,
        reason=reason,
    )


def staff_added(person_id: str, enrollment_id: str, employer_id: str) -> StaffAdded:
    return StaffAdded(
        person_id=person_id,
        employer_id=employer_id,
        enrollment_id=enrollment_id,
        contribution_base_fen=500_000,
        start_date=date(2025, 1, 1),
    )


def staff_removed(person_id: str, enrollment_id: str, employer_id: str) -> StaffRemoved:
    return StaffRemoved(
        person_id=person_id,
        employer_id=employer_id,
        enrollment_id=enrollment_id,
        end_date=date(2025, 6, 1),
    )


def moved(person_id: str, enrollment_id: str, to: str = JINAN) -> PoolingRegionChanged:
    return PoolingRegionChanged(
        person_id=person_id,
        enrollment_id=enrollment_id,
        insutype="310",
        from_region=QINGDAO,
        to_region=to,
        changed_on=date(2025, 3, 1),
        transfer_id=new_id("T"),
    )


def newborn(person_id: str, birth: date, region: str = QINGDAO) -> NewbornEnrolled:
    return NewbornEnrolled(
        person_id=person_id,
        enrollment_id=new_id("EN"),
        guardian_person_id=new_person(),
        birth_date=birth,
        pooling_region=region,
        start_date=birth,
    )


def deceased(person_id: str, day: date) -> PersonDeceased:
    return PersonDeceased(person_id=person_id, date_of_death=day, record_id=new_id("D"))


def death(person_id: str, day: date) -> DeathRecorded:
    return DeathRecorded(
        person_id=person_id,
        record_id=new_id("D"),
        date_of_death=day,
        source="civil_affairs",
        region_code=QINGDAO,
    )


def death_corrected(person_id: str, previous: date, day: date) -> DeathCorrected:
    return DeathCorrected(
        person_id=person_id,
        record_id=new_id("D"),
        previous_record_id=new_id("D"),
        previous_date_of_death=previous,
        date_of_death=day,
        source="health",
        region_code=QINGDAO,
    )


def certified(
    person_id: str, condition: str = "t2dm", certification_id: str | None = None
) -> ChronicCertified:
    return ChronicCertified(
        person_id=person_id,
        certification_id=certification_id or new_id("C"),
        condition_code=condition,
        condition_name=condition,
        source="application",
        diagnosis_codes=["E11.9"],
        institution_code="H37020200017",
        institution_name="青岛市市立医院",
        valid_from=date(2025, 1, 1),
        valid_until=date(2026, 12, 31),
        annual_cap_fen=400_000,
        pay_ratio_permille=600,
    )


def revoked(person_id: str, certification_id: str, condition: str = "t2dm") -> ChronicRevoked:
    return ChronicRevoked(
        person_id=person_id,
        certification_id=certification_id,
        condition_code=condition,
        condition_name=condition,
        reason="expired",
        ended_on=date(2026, 12, 31),
    )


def _filing(person_id: str, filing_id: str, category: str, **more: Any) -> dict[str, Any]:
    long_term = category in ("relocated_retiree", "long_term_resident", "stationed_worker")
    return {
        "person_id": person_id,
        "filing_id": filing_id,
        "filing_type": "long_term" if long_term else "temporary",
        "category": category,
        "destination_region": "110105",
        "valid_from": date(2025, 1, 1),
        "valid_until": None if long_term else date(2026, 6, 30),
        **more,
    }


def filed(
    person_id: str, category: str = "relocated_retiree", filing_id: str | None = None
) -> RemoteCareFiled:
    return RemoteCareFiled(
        **_filing(person_id, filing_id or new_id("F"), category),
        home_region=QINGDAO,
        insutype="310",
        enrollment_id=new_id("EN"),
        filed_on=date(2025, 1, 1),
    )


def filing_revoked(person_id: str, filing_id: str, category: str = "relocated_retiree") -> Event:
    return RemoteCareRevoked(**_filing(person_id, filing_id, category), revoked_on=date(2026, 2, 1))


def filing_expired(person_id: str, filing_id: str, category: str = "referral") -> Event:
    return RemoteCareExpired(**_filing(person_id, filing_id, category))


def allowance(
    person_id: str, birth: date, allowance_id: str | None = None
) -> MaternityAllowanceApproved:
    return MaternityAllowanceApproved(
        person_id=person_id,
        allowance_id=allowance_id or new_id("A"),
        source="auto",
        settlement_id=new_id("S"),
        employer_id="E3702001",
        kind="birth",
        event_date=birth,
        babies=1,
        difficult_birth=False,
        leave_days=158,
        monthly_wage_fen=900_000,
        daily_wage_fen=30_000,
        amount_fen=4_740_000,
    )


def allowance_cancelled(
    person_id: str, allowance_id: str, birth: date
) -> MaternityAllowanceCancelled:
    return MaternityAllowanceCancelled(
        person_id=person_id,
        allowance_id=allowance_id,
        settlement_id=new_id("S"),
        event_date=birth,
        amount_fen=4_740_000,
        reason="settlement_reversed",
        reversal_reason_code="settlement_data_error",
    )


def preference(person_id: str, opted_out: bool, at: datetime | None = None) -> Event:
    return PushPreferenceChanged(
        person_id=person_id,
        opted_out=opted_out,
        via="sms_reply",
        at=at or datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    )
