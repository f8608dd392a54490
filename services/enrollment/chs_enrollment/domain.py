"""The rules of enrollment (参保登记), over ``model`` state and ``commands``. No I/O.

The aggregates of ``model`` ask these functions whether a change may happen; handlers load the
state, call the aggregate and save what it returns. A refused command raises a domain error
(``chs_events.errors``) whose ``errors`` name the field at fault; a batch is refused whole, its
errors naming each item.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from chs_enrollment.commands import (
    EnrollEmployee,
    EnrollResident,
    NewStaff,
    RecordContribution,
)
from chs_events.clock import CHINA
from chs_events.errors import (
    Conflict,
    DomainError,
    InvalidField,
    NotFound,
    NotPermitted,
    Rejected,
    Throttled,
)
from chs_events.identity import age_on, birth_date_from_id_number
from chs_events.vocabulary import EMPLOYEE, RESIDENT, Insutype

if TYPE_CHECKING:  # model's aggregates call these rules
    from chs_enrollment.model import Employer, Enrollment, Payment, Person

NEWBORN_MAX_AGE_YEARS = 1
LEFT_EMPLOYER = "left_employer"
DEATH = "death"
# A requested mobile change: its one-time code is valid this long, for this many tries.
CONTACT_CODE_TTL = timedelta(minutes=10)
# Each request sends an SMS to the number it names: at most this many per person in an hour.
CONTACT_CODES_PER_HOUR = 3
CONTACT_CODE_ATTEMPTS = 5


class AlreadyEnrolled(Conflict):
    pass


class NotStaff(NotPermitted):
    pass


class PersonNotFound(NotFound):
    pass


class NoContactChange(NotFound):
    """No mobile change awaits confirmation (none was requested, or it was confirmed)."""


class ContactChangeExpired(Conflict):
    """The change's code expired or was tried too often: request the change again."""


class TooManyContactCodes(Throttled):
    pass


def check_contact_code_requests(recent: Sequence[datetime], now: datetime) -> None:
    """``recent``: when the person's codes of the last hour were requested."""
    if len(recent) >= CONTACT_CODES_PER_HOUR:
        retry_at = min(recent) + timedelta(hours=1)
        raise TooManyContactCodes(
            f"{CONTACT_CODES_PER_HOUR} codes were requested within the hour",
            retry_after_seconds=max(1, int((retry_at - now).total_seconds())),
        )


class WrongContactCode(Rejected):
    pass


class TransferNotApplicable(Rejected):
    """A completed transfer does not fit the enrollment as this service knows it."""


class PersonIsDeceased(Conflict):
    """The person's death is recorded (生存认证): no enrollment of the person is accepted."""


class DeathAlreadyRecorded(Rejected):
    """A death record with another date for a person already recorded dead: another date comes
    as a correction (DeathCorrected), so this one is a case for people."""


class BatchRefused(DomainError):
    """Some items of a batch were refused, so none was applied. Raised as the kind of its worst
    item error (``BatchRefused.of``): not permitted > conflict > not found > rejected."""

    @classmethod
    def of(cls, worst: DomainError, errors: list[dict[str, str]]) -> BatchRefused:
        kind = next(
            (batch for item, batch in _BATCH_KINDS if isinstance(worst, item)), BatchRejected
        )
        return kind(f"batch refused, nothing changed: {len(errors)} item error(s)", errors=errors)

    @staticmethod
    def severity(error: DomainError) -> int:
        return next(
            (
                len(_BATCH_KINDS) - rank
                for rank, (item, _) in enumerate(_BATCH_KINDS)
                if isinstance(error, item)
            ),
            0,
        )


class BatchNotPermitted(BatchRefused, NotPermitted):
    pass


class BatchConflict(BatchRefused, Conflict):
    pass


class BatchNotFound(BatchRefused, NotFound):
    pass


class BatchRejected(BatchRefused, Rejected):
    pass


# The kinds of item error, worst first, and the batch refusal each makes.
_BATCH_KINDS: tuple[tuple[type[DomainError], type[BatchRefused]], ...] = (
    (NotPermitted, BatchNotPermitted),
    (Conflict, BatchConflict),
    (NotFound, BatchNotFound),
)


# --- rules -------------------------------------------------------------------------------------

Item = TypeVar("Item")
Result = TypeVar("Result")
_PERIOD = re.compile(r"[0-9]{4}(0[1-9]|1[0-2])")


def check_enrollment_start(
    birth_date: date, enrollments: Iterable[Enrollment], insutype: Insutype, start_date: date
) -> None:
    """One open enrollment per insurance type, and no overlap with an ended one."""
    if start_date < birth_date:
        raise InvalidField("start_date", f"{start_date} is before the birth date {birth_date}")
    for existing in enrollments:
        if existing.insutype != insutype:
            continue
        if existing.end_date is None:
            raise AlreadyEnrolled(
                f"already has an open {insutype} enrollment", enrollment_id=existing.enrollment_id
            )
        if existing.end_date >= start_date:
            raise AlreadyEnrolled(
                f"start date {start_date} overlaps the {insutype} enrollment that ends "
                f"{existing.end_date}",
                enrollment_id=existing.enrollment_id,
            )


def check_alive(deceased_on: date | None) -> None:
    """A new enrollment would be open past the date of death: refused for a deceased person."""
    if deceased_on is not None:
        raise PersonIsDeceased(
            f"the person died on {deceased_on}: no enrollment after the date of death",
            date_of_death=deceased_on.isoformat(),
        )


def death_changes(recorded: date | None, date_of_death: date, *, correction: bool) -> bool:
    """Whether a death record changes what is recorded (``recorded``: the date of death known,
    if any). The same date again changes nothing; a correction moves the date (and records a
    death not known before); a first record of another date than the one known is refused."""
    if recorded is None or recorded == date_of_death:
        return recorded is None
    if not correction:
        raise DeathAlreadyRecorded(
            f"the death is recorded on {recorded}; a record of {date_of_death} must come as a "
            "correction"
        )
    return True


def death_end(enrollment: Enrollment, date_of_death: date) -> date | None:
    """The end a death on ``date_of_death`` gives the enrollment, or None when it has none to
    give: an enrollment covering a day after the date (open, or ending later) ends on it, one a
    death ended before moves with the corrected date, and one that began after the date ends on
    its first day (its end cannot precede its start)."""
    covers_after = enrollment.end_date is None or enrollment.end_date > date_of_death
    if not covers_after and enrollment.end_reason != DEATH:
        return None
    end = max(enrollment.start_date, date_of_death)
    if (enrollment.end_date, enrollment.end_reason) == (end, DEATH):
        return None
    return end


def check_contribution_base(contribution_base_fen: int | None) -> int:
    if contribution_base_fen is None or contribution_base_fen <= 0:
        raise InvalidField(
            "contribution_base_fen",
            "an employee (310) enrollment needs a contribution base above 0 fen",
        )
    return contribution_base_fen


def check_contribution_base_cap(
    contribution_base_fen: int, cap_fen: int, pooling_region: str, year: int
) -> None:
    """Within the statutory cap of the pooling region and year (``contribution_bases``)."""
    if contribution_base_fen > cap_fen:
        raise InvalidField(
            "contribution_base_fen",
            f"above the cap of {cap_fen} fen for {pooling_region} in {year}",
        )


def enrollment_command(
    *,
    person_id: str,
    insutype: Insutype,
    pooling_region: str | None,
    employer_id: str | None,
    contribution_base_fen: int | None,
    start_date: date,
) -> EnrollResident | EnrollEmployee:
    """The command for an enrollment request: resident (390) or employee (310)."""
    if insutype == RESIDENT:
        if employer_id is not None:
            raise InvalidField("employer_id", "a resident (390) enrollment has no employer")
        if contribution_base_fen is not None:
            raise InvalidField(
                "contribution_base_fen", "a resident (390) enrollment has no contribution base"
            )
        if pooling_region is None:
            raise InvalidField("pooling_region", "required for a resident (390) enrollment")
        return EnrollResident(person_id, pooling_region, start_date)
    if employer_id is None:
        raise InvalidField("employer_id", "required for an employee (310) enrollment")
    return EnrollEmployee(
        person_id,
        employer_id,
        check_contribution_base(contribution_base_fen),
        start_date,
        pooling_region,
    )


def employee_pooling_region(command: EnrollEmployee, employer: Employer | None) -> str:
    """An employee pools in the employer's region."""
    if employer is None:
        raise InvalidField("employer_id", f"no employer {command.employer_id}")
    check_contribution_base(command.contribution_base_fen)
    if command.pooling_region not in (None, employer.region_code):
        raise InvalidField(
            "pooling_region",
            f"an employee (310) pools in the employer's region {employer.region_code}",
        )
    return employer.region_code


def check_new_staff(
    item: NewStaff,
    person: Person | None,
    enrollments: Iterable[Enrollment],
    deceased_on: date | None = None,
) -> None:
    """``deceased_on``: the recorded death of a person not yet registered."""
    check_alive(person.deceased_on if person is not None else deceased_on)
    if person is not None and person.name != item.name:
        raise InvalidField("name", "differs from the name registered for this ID number")
    check_contribution_base(item.contribution_base_fen)
    birth_date = person.birth_date if person else birth_date_from_id_number(item.id_number)
    check_enrollment_start(birth_date, enrollments, EMPLOYEE, item.start_date)


def check_end_date(enrollment: Enrollment, end_date: date) -> None:
    if end_date < enrollment.start_date:
        raise InvalidField(
            "end_date", f"{end_date} is before the enrollment's start date {enrollment.start_date}"
        )


def staff_enrollment(
    employer_id: str, enrollments: Iterable[Enrollment], end_date: date
) -> Enrollment:
    """The open employee enrollment with this employer that a removal ends."""
    for enrollment in enrollments:
        if (
            enrollment.end_date is None
            and enrollment.insutype == EMPLOYEE
            and enrollment.employer_id == employer_id
        ):
            check_end_date(enrollment, end_date)
            return enrollment
    # The same answer whether the person is unknown or someone else's staff.
    raise NotStaff("not on this employer's active staff")


def check_batch(
    items: Sequence[Item],
    check: Callable[[Item], Result],
    *,
    key: Callable[[Item], Hashable],
    key_field: str,
) -> list[Result]:
    """Check every item; refuse the whole batch when any item is refused or repeated."""
    results: list[Result] = []
    errors: list[dict[str, str]] = []
    worst: DomainError | None = None
    first_index: dict[Hashable, int] = {}
    for index, item in enumerate(items):
        try:
            if (seen := first_index.setdefault(key(item), index)) != index:
                raise InvalidField(key_field, f"the same person as item {seen}")
            results.append(check(item))
        except DomainError as problem:
            errors.extend(
                {
                    "field": f"items.{index}" + (f".{e['field']}" if e.get("field") else ""),
                    "reason": e["reason"],
                }
                for e in problem.extensions.get("errors") or [{"reason": problem.detail}]
            )
            if worst is None or BatchRefused.severity(problem) > BatchRefused.severity(worst):
                worst = problem
    if worst is not None:
        raise BatchRefused.of(worst, errors)
    return results


def check_newborn(
    birth_date: date, guardian: Person | None, guardian_person_id: str, today: date
) -> None:
    if birth_date > today:
        raise InvalidField("birth_date", f"{birth_date} is in the future")
    if age_on(birth_date, today) >= NEWBORN_MAX_AGE_YEARS:
        raise InvalidField(
            "birth_date",
            f"{birth_date} is a year or more ago; newborn enrollment is for the first year of life",
        )
    if guardian is None:
        raise InvalidField("guardian_person_id", f"no registered person {guardian_person_id}")


def paid_enrollment(command: RecordContribution, enrollment: Enrollment | None) -> Enrollment:
    """The enrollment a contribution is paid into, which must exist."""
    if enrollment is None:
        raise InvalidField("enrollment_id", f"no enrollment {command.enrollment_id}")
    return enrollment


def check_contribution(
    command: RecordContribution,
    enrollment: Enrollment | None,
    paid_periods: Collection[str],
    *,
    birth_date: date,
    today: date,
) -> None:
    enrollment = paid_enrollment(command, enrollment)
    check_paid_on(command.paid_at, birth_date, today)
    if command.amount_fen <= 0:
        raise InvalidField("amount_fen", "must be above 0 fen")
    for part in ("employer_part_fen", "personal_part_fen"):
        if getattr(command, part) < 0:
            raise InvalidField(part, "must not be negative")
    if command.employer_part_fen + command.personal_part_fen != command.amount_fen:
        raise InvalidField(
            "personal_part_fen",
            f"employer part + personal part must equal the amount {command.amount_fen}",
        )
    if enrollment.insutype == RESIDENT and command.employer_part_fen:
        raise InvalidField(
            "employer_part_fen", "a resident (390) contribution has no employer part"
        )
    if not _PERIOD.fullmatch(command.period):
        raise InvalidField("period", f"{command.period!r} is not a month written YYYYMM")
    if command.period < (start := f"{enrollment.start_date:%Y%m}"):
        raise InvalidField(
            "period", f"{command.period} is before the enrollment's start month {start}"
        )
    if enrollment.end_date and command.period > (end := f"{enrollment.end_date:%Y%m}"):
        if enrollment.end_reason == DEATH:
            raise InvalidField(
                "period",
                f"{command.period} is after the month of the person's death "
                f"({enrollment.end_date})",
            )
        raise InvalidField("period", f"{command.period} is after the enrollment's end month {end}")
    if command.period in paid_periods:
        raise Conflict(
            f"period {command.period} of enrollment {enrollment.enrollment_id} is already paid"
        )


def check_paid_on(paid_at: datetime, birth_date: date, today: date) -> None:
    """A contribution is paid on a day of the payer's life so far (in China's calendar): not
    before the birth date, not after today."""
    paid_on = paid_at.astimezone(CHINA).date()
    if paid_on > today:
        raise InvalidField("paid_at", f"{paid_on} is in the future")
    if paid_on < birth_date:
        raise InvalidField("paid_at", f"{paid_on} is before the person's birth date {birth_date}")


def check_replay(existing: Payment, command: RecordContribution) -> None:
    """The same payment_id again must be the same payment."""
    fields = ("enrollment_id", "period", "amount_fen", "employer_part_fen", "personal_part_fen")
    if any(getattr(existing, name) != getattr(command, name) for name in fields):
        raise Conflict(f"payment {command.payment_id} was already recorded with other details")


def contribution_months(
    enrollments: Iterable[Enrollment], payments: Iterable[Payment]
) -> dict[str, int]:
    """Distinct paid months per insurance type."""
    insutype_of = {e.enrollment_id: e.insutype for e in enrollments}
    months: dict[str, set[str]] = {insutype: set() for insutype in insutype_of.values()}
    for payment in payments:
        months.setdefault(insutype_of[payment.enrollment_id], set()).add(payment.period)
    return {insutype: len(periods) for insutype, periods in sorted(months.items())}


def check_contact_code(
    matches: bool, attempts: int, expires_at: datetime, now: datetime
) -> DomainError | None:
    """What a confirmation attempt (the ``attempts``-th, counting this one) meets: None when
    the code is right and still valid, else the error to answer (``attempts_left`` on a wrong
    code while tries remain)."""
    if now >= expires_at:
        return ContactChangeExpired("the code has expired; request the change again")
    if attempts > CONTACT_CODE_ATTEMPTS:
        return ContactChangeExpired("too many wrong codes; request the change again")
    if not matches:
        left = CONTACT_CODE_ATTEMPTS - attempts
        if left == 0:
            return ContactChangeExpired("too many wrong codes; request the change again")
        return WrongContactCode(
            "the code is not the one sent to the new mobile", attempts_left=left
        )
    return None
