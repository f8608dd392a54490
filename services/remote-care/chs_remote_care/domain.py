"""The rules of remote-care filing (异地就医备案). No I/O.

- ``long_term`` (relocated retiree 异地安置退休, long-term resident 异地长期居住, stationed worker
  常驻异地工作): valid from the filing day until revoked; one active long-term filing at a time.
- ``temporary`` (referral 转诊转院, emergency 急诊抢救, self-referred 自行外出就医): valid 6 months.
  It may be back-dated to the admission date while the stay is not yet settled at discharge;
  an emergency counts as filed, so its back-dating has no such limit. Whether the stay is
  settled is what the server knows (``SettledStay``, from ``chs.reimbursement.events``), not
  only what the caller claims: a settlement of the person's, not reversed, at an institution
  the filing's destination covers, for days that overlap the filing's admission to its
  discharge (today while still in care), ends the back-dating. Temporary care inside the home
  province needs no filing.
- Approved at once on the person's commitment, no documents (秒备案), when the person has an
  active enrollment and the destination is outside the home city (the pooling region's city).

A refused filing raises a domain error (``chs_events.errors``) whose ``rule`` names the rule
that failed. ``coverage`` answers whether a person is covered for care in a region on a day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from chs_events.attributes import made_of
from chs_events.clock import CHINA
from chs_events.errors import Conflict, Rejected
from chs_events.events.remote_care import (
    CATEGORY_NAMES,
    FILING_TYPE_NAMES,
    FilingCategory,
    FilingType,
)
from chs_events.read_models.enrollments import Enrollment, home_enrollment
from chs_events.read_models.filings import covering
from chs_events.regions import InvalidRegionCode, covers, region, same_city, same_province

if TYPE_CHECKING:
    from chs_remote_care.model import Filing

LONG_TERM: FilingType = "long_term"
TEMPORARY: FilingType = "temporary"
TEMPORARY_VALID_MONTHS = 6

CATEGORIES: dict[FilingType, tuple[FilingCategory, ...]] = {
    "long_term": ("relocated_retiree", "long_term_resident", "stationed_worker"),
    "temporary": ("referral", "emergency", "self_referred"),
}

Basis = Literal["home_city", "filing", "in_province", "emergency"]

# Rules a refusal names (``rule`` in the problem body).
NO_ACTIVE_ENROLLMENT = "active_enrollment_required"
DESTINATION_IN_HOME_CITY = "destination_outside_home_city"
LONG_TERM_OVERLAP = "one_active_long_term_filing"
CATEGORY_OF_TYPE = "category_matches_filing_type"
IN_PROVINCE_NO_FILING = "temporary_in_province_needs_no_filing"
BACK_DATING = "back_dating_until_discharge_settlement"
ADMISSION_DATE = "admission_date_within_enrollment_and_validity"
NOT_ACTIVE = "only_an_active_filing_is_revoked"
NOT_DUE = "only_an_active_filing_past_its_validity_expires"


@dataclass(frozen=True)
class Terms:
    """What a filing will be, once the rules accepted it."""

    enrollment: Enrollment
    valid_from: date
    valid_until: date | None
    admission_date: date | None


@dataclass(frozen=True)
class SettledStay:
    """A stay (or a visit) whose settlement the server knows of and that was not reversed: the
    dates and place of a ``SettlementCompleted`` on ``chs.reimbursement.events``."""

    settlement_id: str
    person_id: str
    admission_date: date
    discharge_date: date | None  # None: an outpatient visit, its one day
    institution_region: str
    settled_at: datetime

    @classmethod
    def of(cls, settlement: object) -> SettledStay:
        """The stay of a ``SettlementCompleted``: its fields of the same names."""
        return made_of(cls, settlement)

    @property
    def last_day(self) -> date:
        return self.discharge_date or self.admission_date

    def overlaps(self, first: date, last: date) -> bool:
        return self.admission_date <= last and first <= self.last_day

    def settled_in(self, destination: str) -> bool:
        """The settling institution lies in ``destination`` (a region the registry knows). A
        region code the registry does not know is placed by its digits: the province's two,
        the city's four."""
        try:
            return covers(destination, self.institution_region)
        except InvalidRegionCode:
            digits = {"province": 2, "city": 4}.get(region(destination).level, 6)
            return self.institution_region[:digits] == destination[:digits]


@dataclass(frozen=True)
class Coverage:
    covered: bool
    basis: Basis | None
    reason: str
    home_region: str | None = None
    insutype: str | None = None
    filing: Filing | None = None


class Refused(Rejected):
    """A filing rule refused the request (422)."""

    def __init__(self, rule: str, detail: str, field: str | None = None) -> None:
        extensions: dict[str, Any] = {"rule": rule}
        if field is not None:
            extensions["errors"] = [{"field": field, "reason": detail}]
        super().__init__(detail, **extensions)


class Overlaps(Conflict):
    """A second active long-term filing would overlap the first (409)."""


class NotActive(Conflict):
    pass


# --- dates -------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (2026-08-31 + 6 → 2027-02-28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def temporary_valid_until(valid_from: date) -> date:
    """Six months: from 2026-11-22 to 2027-05-21 inclusive."""
    return add_months(valid_from, TEMPORARY_VALID_MONTHS) - timedelta(days=1)


# --- the filing rules --------------------------------------------------------------------------


def check_category(filing_type: FilingType, category: FilingCategory) -> None:
    if category not in CATEGORIES[filing_type]:
        raise Refused(
            CATEGORY_OF_TYPE,
            f"{category} is not a {filing_type} category; "
            f"one of {', '.join(CATEGORIES[filing_type])}",
            field="category",
        )


def check_filing(
    *,
    filing_type: FilingType,
    category: FilingCategory,
    destination: str,
    enrollments: Iterable[Enrollment],
    filings: Iterable[Filing],
    today: date,
    admission_date: date | None = None,
    discharge_date: date | None = None,
    settled: Iterable[SettledStay] = (),
) -> Terms:
    """Accept a filing (its validity and the enrollment it is made under) or refuse it;
    ``settled``: the person's stays whose settlement the server knows of."""
    enrollments = list(enrollments)
    check_category(filing_type, category)
    if filing_type == LONG_TERM:
        if admission_date is not None or discharge_date is not None:
            field = "admission_date" if admission_date is not None else "discharge_date"
            raise Refused(
                ADMISSION_DATE,
                "a long-term filing is valid from the filing day; "
                "admission and discharge dates are for temporary filings",
                field=field,
            )
        valid_from, valid_until = today, None
    else:
        valid_from = admission_date or today
        valid_until = temporary_valid_until(valid_from)
    enrollment = home_enrollment(enrollments, valid_from)
    if enrollment is None:
        if admission_date is not None and home_enrollment(enrollments, today) is not None:
            raise Refused(
                ADMISSION_DATE,
                f"not enrolled on the admission date {admission_date}",
                field="admission_date",
            )
        raise Refused(
            NO_ACTIVE_ENROLLMENT,
            "no active enrollment: remote-care filing needs an "
            "active basic medical insurance enrollment (310 or 390)",
        )
    home = enrollment.pooling_region
    for e in enrollments:
        if e.active_on(valid_from) and same_city(destination, e.pooling_region):
            raise Refused(
                DESTINATION_IN_HOME_CITY,
                f"destination {destination} ({region(destination).name}) is inside "
                f"the home city of the pooling region {e.pooling_region}",
                field="destination_region",
            )
    if filing_type == TEMPORARY:
        if same_province(destination, home):
            raise Refused(
                IN_PROVINCE_NO_FILING,
                f"temporary care in {region(destination).name} is inside the home "
                f"province: it is covered without a filing",
                field="destination_region",
            )
        check_back_dating(
            category,
            today,
            admission_date,
            discharge_date,
            temporary_valid_until(valid_from),
            destination=destination,
            settled=settled,
        )
    else:
        for other in filings:
            if other.filing_type == LONG_TERM and other.status == "active":
                last = other.last_covered_day
                if last is None or last >= valid_from:
                    raise Overlaps(
                        f"an active long-term filing to {other.destination_region} "
                        f"(from {other.valid_from}) would overlap; revoke it first",
                        rule=LONG_TERM_OVERLAP,
                        filing_id=other.filing_id,
                    )
    return Terms(enrollment, valid_from, valid_until, admission_date)


def check_back_dating(
    category: FilingCategory,
    today: date,
    admission_date: date | None,
    discharge_date: date | None,
    valid_until: date,
    *,
    destination: str | None = None,
    settled: Iterable[SettledStay] = (),
) -> None:
    """Back-dated to the admission date while the discharge is not settled (an emergency counts
    as filed: no limit); never past the six months the filing would have been valid.

    Settled: as the caller states it (discharged before today), or as the server knows it
    (``settled``): a stay settled at an institution in ``destination`` whose days overlap the
    filing's, from the admission to the discharge (today while still in care)."""
    if admission_date is None:
        if discharge_date is not None:
            raise Refused(
                ADMISSION_DATE, "a discharge date needs the admission date", field="admission_date"
            )
        return
    if discharge_date is not None and discharge_date < admission_date:
        raise Refused(
            ADMISSION_DATE,
            f"discharge {discharge_date} is before the admission {admission_date}",
            field="discharge_date",
        )
    if admission_date >= today:
        return
    if valid_until < today:
        raise Refused(
            ADMISSION_DATE,
            f"a filing from {admission_date} would have ended on {valid_until}",
            field="admission_date",
        )
    if category != "emergency" and discharge_date is not None and discharge_date < today:
        raise Refused(
            BACK_DATING,
            f"back-dating is possible until the discharge is settled; "
            f"discharged on {discharge_date}",
            field="discharge_date",
        )
    if category == "emergency" or destination is None:
        return
    last = discharge_date or today
    for stay in settled:
        if stay.overlaps(admission_date, last) and stay.settled_in(destination):
            raise Refused(
                BACK_DATING,
                f"back-dating is possible until the discharge is settled; the stay from "
                f"{stay.admission_date} to {stay.last_day} in {destination} "
                f"({region(destination).name}) was settled on "
                f"{stay.settled_at.astimezone(CHINA).date()}",
                field="admission_date",
            )


def check_revoke(filing: Filing) -> None:
    if filing.status != "active":
        raise NotActive(f"filing {filing.filing_id} is {filing.status}", rule=NOT_ACTIVE)


def due_to_expire(filing: Filing, today: date) -> bool:
    return (
        filing.status == "active" and filing.valid_until is not None and filing.valid_until < today
    )


def check_expire(filing: Filing, today: date) -> None:
    if not due_to_expire(filing, today):
        raise NotActive(
            f"filing {filing.filing_id} is {filing.status}, valid until "
            f"{filing.valid_until}: not due to expire on {today}",
            rule=NOT_DUE,
        )


# --- the coverage answer -------------------------------------------------------------------------


def coverage(
    *,
    place: str,
    day: date,
    enrollments: Iterable[Enrollment],
    filings: Iterable[Filing],
    emergency: bool = False,
) -> Coverage:
    """Is the person covered for care in ``place`` on ``day``, and on what basis?

    home_city — ordinary care in the pooling city; filing — a filing covers it (long-term
    first); in_province — temporary care in the home province needs no filing; emergency — an
    emergency counts as filed. Otherwise not covered, with the reason.
    """
    enrollments = list(enrollments)
    enrollment = home_enrollment(enrollments, day)
    if enrollment is None:
        return Coverage(False, None, f"no active enrollment on {day}")
    home, insutype = enrollment.pooling_region, enrollment.insutype
    if any(same_city(place, e.pooling_region) for e in enrollments if e.active_on(day)):
        return Coverage(True, "home_city", "care in the home city needs no filing", home, insutype)
    filing = covering(filings, place, day)
    if filing is not None:
        return Coverage(
            True,
            "filing",
            f"{FILING_TYPE_NAMES[filing.filing_type]} filing "
            f"{filing.filing_id} ({CATEGORY_NAMES[filing.category]})",
            home,
            insutype,
            filing,
        )
    if same_province(place, home):
        return Coverage(
            True,
            "in_province",
            "temporary care inside the home province needs no filing",
            home,
            insutype,
        )
    if emergency:
        return Coverage(True, "emergency", "emergency care counts as filed", home, insutype)
    return Coverage(False, None, f"no filing covers {region(place).name} on {day}", home, insutype)
