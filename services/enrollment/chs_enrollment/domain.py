"""The rules of enrollment (参保登记), over ``model`` state and ``commands``. No I/O.

Handlers load the state, ask these functions whether a command may happen, then change the
state and record events. A refused command raises a problem (``chs_events.problems``) whose
``errors`` name the field at fault; a batch is refused whole, its errors naming each item.
"""
import re
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from datetime import date
from typing import TypeVar

from chs_events.identity import age_on, birth_date_from_id_number
from chs_events.errors import Conflict, NotFound, Rejected
from chs_events.errors import NotPermitted
from chs_events.problems import Problem

from chs_enrollment.commands import (
    EnrollEmployee,
    EnrollResident,
    NewStaff,
    RecordContribution,
)
from chs_enrollment.model import EMPLOYEE, RESIDENT, Employer, Enrollment, Insutype, Payment, Person

NEWBORN_MAX_AGE_YEARS = 1
LEFT_EMPLOYER = "left_employer"


class InvalidField(Rejected):
    """A rule refused the value of one field."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}",
                         errors=[{"field": field_name, "reason": reason}])


class AlreadyEnrolled(Conflict):
    pass


class NotStaff(NotPermitted):
    pass


class PersonNotFound(NotFound):
    pass


class BatchRefused(Problem):
    """Some items of a batch were refused, so none was applied; answered with the worst kind."""

    _SEVERITY = {NotPermitted: 3, Conflict: 2, NotFound: 1}

    def __init__(self, worst: Problem, errors: list[dict[str, str]]) -> None:
        super().__init__(f"batch refused, nothing changed: {len(errors)} item error(s)",
                         errors=errors)
        self.status, self.title, self.kind = worst.status, worst.title, worst.kind

    @classmethod
    def severity(cls, problem: Problem) -> int:
        return max((rank for kind, rank in cls._SEVERITY.items() if isinstance(problem, kind)),
                   default=0)


# --- rules -------------------------------------------------------------------------------------

Item = TypeVar("Item")
Result = TypeVar("Result")
_PERIOD = re.compile(r"[0-9]{4}(0[1-9]|1[0-2])")


def check_enrollment_start(birth_date: date, enrollments: Iterable[Enrollment],
                           insutype: Insutype, start_date: date) -> None:
    """One open enrollment per insurance type, and no overlap with an ended one."""
    if start_date < birth_date:
        raise InvalidField("start_date", f"{start_date} is before the birth date {birth_date}")
    for existing in enrollments:
        if existing.insutype != insutype:
            continue
        if existing.end_date is None:
            raise AlreadyEnrolled(f"already has an open {insutype} enrollment",
                                  enrollment_id=existing.enrollment_id)
        if existing.end_date >= start_date:
            raise AlreadyEnrolled(
                f"start date {start_date} overlaps the {insutype} enrollment that ends "
                f"{existing.end_date}", enrollment_id=existing.enrollment_id)


def check_contribution_base(contribution_base_fen: int | None) -> int:
    if contribution_base_fen is None or contribution_base_fen <= 0:
        raise InvalidField("contribution_base_fen",
                           "an employee (310) enrollment needs a contribution base above 0 fen")
    return contribution_base_fen


def enrollment_command(*, person_id: str, insutype: Insutype, pooling_region: str | None,
                       employer_id: str | None, contribution_base_fen: int | None,
                       start_date: date, correlation_id: str | None = None,
                       ) -> EnrollResident | EnrollEmployee:
    """The command for an enrollment request: resident (390) or employee (310)."""
    if insutype == RESIDENT:
        if employer_id is not None:
            raise InvalidField("employer_id", "a resident (390) enrollment has no employer")
        if contribution_base_fen is not None:
            raise InvalidField("contribution_base_fen",
                               "a resident (390) enrollment has no contribution base")
        if pooling_region is None:
            raise InvalidField("pooling_region", "required for a resident (390) enrollment")
        return EnrollResident(person_id, pooling_region, start_date,
                              correlation_id=correlation_id)
    if employer_id is None:
        raise InvalidField("employer_id", "required for an employee (310) enrollment")
    return EnrollEmployee(person_id, employer_id, check_contribution_base(contribution_base_fen),
                          start_date, pooling_region, correlation_id=correlation_id)


def employee_pooling_region(command: EnrollEmployee, employer: Employer | None) -> str:
    """An employee pools in the employer's region."""
    if employer is None:
        raise InvalidField("employer_id", f"no employer {command.employer_id}")
    check_contribution_base(command.contribution_base_fen)
    if command.pooling_region not in (None, employer.region_code):
        raise InvalidField("pooling_region", "an employee (310) pools in the employer's "
                                             f"region {employer.region_code}")
    return employer.region_code


def check_new_staff(item: NewStaff, person: Person | None,
                    enrollments: Iterable[Enrollment]) -> None:
    if person is not None and person.name != item.name:
        raise InvalidField("name", "differs from the name registered for this ID number")
    check_contribution_base(item.contribution_base_fen)
    birth_date = person.birth_date if person else birth_date_from_id_number(item.id_number)
    check_enrollment_start(birth_date, enrollments, EMPLOYEE, item.start_date)


def check_end_date(enrollment: Enrollment, end_date: date) -> None:
    if end_date < enrollment.start_date:
        raise InvalidField("end_date", f"{end_date} is before the enrollment's start date "
                                       f"{enrollment.start_date}")


def staff_enrollment(employer_id: str, enrollments: Iterable[Enrollment],
                     end_date: date) -> Enrollment:
    """The open employee enrollment with this employer that a removal ends."""
    for enrollment in enrollments:
        if (enrollment.end_date is None and enrollment.insutype == EMPLOYEE
                and enrollment.employer_id == employer_id):
            check_end_date(enrollment, end_date)
            return enrollment
    # The same answer whether the person is unknown or someone else's staff.
    raise NotStaff("not on this employer's active staff")


def check_batch(items: Sequence[Item], check: Callable[[Item], Result], *,
                key: Callable[[Item], Hashable], key_field: str) -> list[Result]:
    """Check every item; refuse the whole batch when any item is refused or repeated."""
    results: list[Result] = []
    errors: list[dict[str, str]] = []
    worst: Problem | None = None
    first_index: dict[Hashable, int] = {}
    for index, item in enumerate(items):
        try:
            if (seen := first_index.setdefault(key(item), index)) != index:
                raise InvalidField(key_field, f"the same person as item {seen}")
            results.append(check(item))
        except Problem as problem:
            errors.extend(
                {"field": f"items.{index}" + (f".{e['field']}" if e.get("field") else ""),
                 "reason": e["reason"]}
                for e in problem.extensions.get("errors") or [{"reason": problem.detail}])
            if worst is None or BatchRefused.severity(problem) > BatchRefused.severity(worst):
                worst = problem
    if worst is not None:
        raise BatchRefused(worst, errors)
    return results


def check_newborn(birth_date: date, guardian: Person | None, guardian_person_id: str,
                  today: date) -> None:
    if birth_date > today:
        raise InvalidField("birth_date", f"{birth_date} is in the future")
    if age_on(birth_date, today) >= NEWBORN_MAX_AGE_YEARS:
        raise InvalidField("birth_date", f"{birth_date} is a year or more ago; newborn "
                                         "enrollment is for the first year of life")
    if guardian is None:
        raise InvalidField("guardian_person_id", f"no registered person {guardian_person_id}")


def check_contribution(command: RecordContribution, enrollment: Enrollment | None,
                       paid_periods: Collection[str]) -> None:
    if enrollment is None:
        raise InvalidField("enrollment_id", f"no enrollment {command.enrollment_id}")
    if command.amount_fen <= 0:
        raise InvalidField("amount_fen", "must be above 0 fen")
    for part in ("employer_part_fen", "personal_part_fen"):
        if getattr(command, part) < 0:
            raise InvalidField(part, "must not be negative")
    if command.employer_part_fen + command.personal_part_fen != command.amount_fen:
        raise InvalidField("personal_part_fen", "employer part + personal part "
                                                f"must equal the amount {command.amount_fen}")
    if enrollment.insutype == RESIDENT and command.employer_part_fen:
        raise InvalidField("employer_part_fen", "a resident (390) contribution has no "
                                                "employer part")
    if not _PERIOD.fullmatch(command.period):
        raise InvalidField("period", f"{command.period!r} is not a month written YYYYMM")
    if command.period < (start := f"{enrollment.start_date:%Y%m}"):
        raise InvalidField("period", f"{command.period} is before the enrollment's start "
                                     f"month {start}")
    if enrollment.end_date and command.period > (end := f"{enrollment.end_date:%Y%m}"):
        raise InvalidField("period", f"{command.period} is after the enrollment's end month {end}")
    if command.period in paid_periods:
        raise Conflict(f"period {command.period} of enrollment {enrollment.enrollment_id} "
                       "is already paid")


def check_replay(existing: Payment, command: RecordContribution) -> None:
    """The same payment_id again must be the same payment."""
    fields = ("enrollment_id", "period", "amount_fen", "employer_part_fen", "personal_part_fen")
    if any(getattr(existing, name) != getattr(command, name) for name in fields):
        raise Conflict(f"payment {command.payment_id} was already recorded with other details")


def contribution_months(enrollments: Iterable[Enrollment],
                        payments: Iterable[Payment]) -> dict[str, int]:
    """Distinct paid months per insurance type."""
    insutype_of = {e.enrollment_id: e.insutype for e in enrollments}
    months: dict[str, set[str]] = {insutype: set() for insutype in insutype_of.values()}
    for payment in payments:
        months.setdefault(insutype_of[payment.enrollment_id], set()).add(payment.period)
    return {insutype: len(periods) for insutype, periods in sorted(months.items())}
