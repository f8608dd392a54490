from datetime import UTC, date, datetime
from typing import Any

import pytest
from stdnum.cn import ric

from chs_enrollment import domain
from chs_enrollment.commands import (
    EnrollEmployee,
    EnrollResident,
    Leaver,
    NewStaff,
    RecordContribution,
)
from chs_enrollment.domain import BatchRefused, InvalidField
from chs_enrollment.model import Employer, Enrollment, Payment, Person
from chs_events.errors import Conflict, NotFound, NotPermitted, Rejected
from chs_events.vocabulary import Insutype

pytestmark = pytest.mark.unit

QINGDAO = "370200"
EMPLOYER = Employer("E0000000001", "青岛海川电子有限公司", QINGDAO)
ID_BODY = "37020219900307123"
ID_NUMBER = ID_BODY + ric.calc_check_digit(ID_BODY + "0")
PERSON = Person("p1", ID_NUMBER, "张伟", "M", date(1990, 3, 7), "13853212345", "370202")


def enrollment(
    insutype: Insutype = "310",
    *,
    start: date = date(2024, 1, 1),
    end: date | None = None,
    employer_id: str | None = "E0000000001",
    enrollment_id: str = "en-1",
) -> Enrollment:
    return Enrollment(
        enrollment_id,
        "p1",
        insutype,
        QINGDAO,
        start,
        end,
        employer_id=employer_id if insutype == "310" else None,
        contribution_base_fen=650000 if insutype == "310" else None,
        end_reason="left_employer" if end else None,
    )


def field_of(error: pytest.ExceptionInfo) -> str:
    return error.value.extensions["errors"][0]["field"]


def contribution(**overrides: Any) -> RecordContribution:
    values: dict[str, Any] = {
        "payment_id": "pay-1",
        "enrollment_id": "en-1",
        "period": "202401",
        "amount_fen": 65000,
        "employer_part_fen": 52000,
        "personal_part_fen": 13000,
        "paid_at": datetime(2024, 1, 15, tzinfo=UTC),
    }
    return RecordContribution(**{**values, **overrides})


class TestEnrollmentStart:
    def test_one_open_enrollment_per_insutype(self) -> None:
        with pytest.raises(domain.AlreadyEnrolled) as error:
            domain.check_enrollment_start(
                PERSON.birth_date, [enrollment("310")], "310", date(2025, 1, 1)
            )

        assert isinstance(error.value, Conflict)
        assert error.value.extensions["enrollment_id"] == "en-1"

    def test_another_insutype_is_independent(self) -> None:
        domain.check_enrollment_start(
            PERSON.birth_date, [enrollment("310")], "390", date(2025, 1, 1)
        )

    def test_a_new_enrollment_may_start_after_the_previous_ended(self) -> None:
        ended = enrollment("310", end=date(2024, 6, 30))

        domain.check_enrollment_start(PERSON.birth_date, [ended], "310", date(2024, 7, 1))
        with pytest.raises(domain.AlreadyEnrolled, match="overlaps"):
            domain.check_enrollment_start(PERSON.birth_date, [ended], "310", date(2024, 6, 30))

    def test_not_before_birth(self) -> None:
        with pytest.raises(InvalidField) as error:
            domain.check_enrollment_start(date(2000, 1, 1), [], "390", date(1999, 12, 31))

        assert field_of(error) == "start_date"


class TestEnrollmentCommand:
    def arguments(self, **overrides: object) -> dict:
        return {
            "person_id": "p1",
            "insutype": "310",
            "pooling_region": None,
            "employer_id": "E0000000001",
            "contribution_base_fen": 500000,
            "start_date": date(2025, 1, 1),
            **overrides,
        }

    def test_employee(self) -> None:
        command = domain.enrollment_command(**self.arguments())

        assert command == EnrollEmployee("p1", "E0000000001", 500000, date(2025, 1, 1))

    def test_resident(self) -> None:
        command = domain.enrollment_command(
            **self.arguments(
                insutype="390", employer_id=None, contribution_base_fen=None, pooling_region=QINGDAO
            )
        )

        assert command == EnrollResident("p1", QINGDAO, date(2025, 1, 1))

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"employer_id": None}, "employer_id"),
            ({"contribution_base_fen": None}, "contribution_base_fen"),
            ({"contribution_base_fen": 0}, "contribution_base_fen"),
            ({"insutype": "390", "pooling_region": QINGDAO}, "employer_id"),
            ({"insutype": "390", "employer_id": None}, "contribution_base_fen"),
            (
                {"insutype": "390", "employer_id": None, "contribution_base_fen": None},
                "pooling_region",
            ),
        ],
    )
    def test_refused(self, overrides: dict, field: str) -> None:
        with pytest.raises(InvalidField) as error:
            domain.enrollment_command(**self.arguments(**overrides))

        assert field_of(error) == field and isinstance(error.value, Rejected)

    def test_an_employee_pools_in_the_employers_region(self) -> None:
        command = EnrollEmployee("p1", EMPLOYER.employer_id, 500000, date(2025, 1, 1))

        assert domain.employee_pooling_region(command, EMPLOYER) == QINGDAO
        with pytest.raises(InvalidField) as error:
            domain.employee_pooling_region(
                EnrollEmployee("p1", EMPLOYER.employer_id, 500000, date(2025, 1, 1), "370100"),
                EMPLOYER,
            )
        assert field_of(error) == "pooling_region"
        with pytest.raises(InvalidField, match="no employer"):
            domain.employee_pooling_region(command, None)


class TestStaff:
    def new_staff(self, **overrides: Any) -> NewStaff:
        values: dict[str, Any] = {
            "id_number": ID_NUMBER,
            "name": "张伟",
            "mobile": "13853212345",
            "region_code": "370202",
            "contribution_base_fen": 650000,
            "start_date": date(2025, 1, 1),
        }
        return NewStaff(**{**values, **overrides})

    def test_a_new_person_may_join(self) -> None:
        domain.check_new_staff(self.new_staff(), None, [])

    def test_a_registered_person_must_have_the_same_name(self) -> None:
        with pytest.raises(InvalidField) as error:
            domain.check_new_staff(self.new_staff(name="张三"), PERSON, [])

        assert field_of(error) == "name"

    def test_the_start_is_checked_against_the_id_numbers_birth_date(self) -> None:
        with pytest.raises(InvalidField, match="before the birth date 1990-03-07"):
            domain.check_new_staff(self.new_staff(start_date=date(1990, 1, 1)), None, [])

    def test_removal_needs_an_open_310_enrollment_with_this_employer(self) -> None:
        own = enrollment("310")

        assert domain.staff_enrollment("E0000000001", [own], date(2025, 6, 30)) == own
        for others in (
            [],
            [enrollment("310", employer_id="E0000000002")],
            [enrollment("310", end=date(2024, 12, 31))],
            [enrollment("390")],
        ):
            with pytest.raises(domain.NotStaff) as error:
                domain.staff_enrollment("E0000000001", others, date(2025, 6, 30))
            assert isinstance(error.value, NotPermitted)

    def test_the_end_date_is_not_before_the_start(self) -> None:
        with pytest.raises(InvalidField) as error:
            domain.staff_enrollment("E0000000001", [enrollment("310")], date(2023, 12, 31))

        assert field_of(error) == "end_date"
        assert domain.staff_enrollment("E0000000001", [enrollment("310")], date(2024, 1, 1))


class TestBatch:
    def check(self, item: Leaver) -> str:
        if item.person_id == "bad":
            raise InvalidField("end_date", "too early")
        if item.person_id == "foreign":
            raise domain.NotStaff("not on this employer's active staff")
        return item.person_id

    def run(self, *person_ids: str) -> list[str]:
        leavers = [Leaver(person_id, date(2025, 1, 1)) for person_id in person_ids]
        return domain.check_batch(
            leavers, self.check, key=lambda item: item.person_id, key_field="person_id"
        )

    def test_all_valid(self) -> None:
        assert self.run("a", "b") == ["a", "b"]

    def test_every_invalid_item_is_named(self) -> None:
        with pytest.raises(BatchRefused) as error:
            self.run("a", "bad", "a")

        assert isinstance(error.value, Rejected)
        assert not isinstance(error.value, (NotPermitted, Conflict, NotFound))
        assert error.value.extensions["errors"] == [
            {"field": "items.1.end_date", "reason": "too early"},
            {"field": "items.2.person_id", "reason": "the same person as item 0"},
        ]

    def test_a_forbidden_item_makes_the_batch_forbidden(self) -> None:
        with pytest.raises(BatchRefused) as error:
            self.run("bad", "foreign")

        assert isinstance(error.value, NotPermitted) and not isinstance(error.value, Rejected)
        assert error.value.extensions["errors"][1] == {
            "field": "items.1",
            "reason": "not on this employer's active staff",
        }


class TestNewborn:
    TODAY = date(2025, 3, 20)

    def test_accepted_within_the_first_year(self) -> None:
        domain.check_newborn(date(2024, 3, 21), PERSON, "p1", self.TODAY)

    @pytest.mark.parametrize(
        ("birth_date", "reason"),
        [
            (date(2025, 3, 21), "in the future"),
            (date(2024, 3, 20), "a year or more ago"),
        ],
    )
    def test_birth_date(self, birth_date: date, reason: str) -> None:
        with pytest.raises(InvalidField, match=reason) as error:
            domain.check_newborn(birth_date, PERSON, "p1", self.TODAY)

        assert field_of(error) == "birth_date"

    def test_the_guardian_must_be_registered(self) -> None:
        with pytest.raises(InvalidField, match="no registered person p9") as error:
            domain.check_newborn(date(2025, 3, 1), None, "p9", self.TODAY)

        assert field_of(error) == "guardian_person_id"


def check_contribution(
    command: RecordContribution,
    state: Enrollment | None,
    paid_periods: set[str],
    *,
    birth_date: date = PERSON.birth_date,
    today: date = date(2024, 2, 1),
) -> None:
    domain.check_contribution(command, state, paid_periods, birth_date=birth_date, today=today)


class TestContribution:
    def test_accepted(self) -> None:
        check_contribution(contribution(), enrollment("310"), set())

    @pytest.mark.parametrize(
        ("command", "state", "field"),
        [
            (contribution(period="202312"), enrollment("310"), "period"),
            (contribution(period="202407"), enrollment("310", end=date(2024, 6, 30)), "period"),
            (contribution(period="202413"), enrollment("310"), "period"),
            (
                contribution(amount_fen=0, employer_part_fen=0, personal_part_fen=0),
                enrollment("310"),
                "amount_fen",
            ),
            (contribution(personal_part_fen=1), enrollment("310"), "personal_part_fen"),
            (contribution(), enrollment("390"), "employer_part_fen"),
            (contribution(), None, "enrollment_id"),
        ],
    )
    def test_refused(
        self, command: RecordContribution, state: Enrollment | None, field: str
    ) -> None:
        with pytest.raises(InvalidField) as error:
            check_contribution(command, state, set())

        assert field_of(error) == field

    def test_a_resident_pays_it_all_personally(self) -> None:
        check_contribution(
            contribution(employer_part_fen=0, personal_part_fen=65000), enrollment("390"), set()
        )

    def test_a_month_is_paid_once(self) -> None:
        with pytest.raises(Conflict, match="already paid"):
            check_contribution(contribution(), enrollment("310"), {"202401"})

    @pytest.mark.parametrize(
        ("birth_date", "today", "reason"),
        [
            (date(2024, 1, 16), date(2024, 2, 1), "before the person's birth date 2024-01-16"),
            (PERSON.birth_date, date(2024, 1, 14), "2024-01-15 is in the future"),
        ],
    )
    def test_paid_within_the_persons_life_so_far(
        self, birth_date: date, today: date, reason: str
    ) -> None:
        with pytest.raises(InvalidField, match=reason) as error:
            check_contribution(
                contribution(), enrollment("310"), set(), birth_date=birth_date, today=today
            )

        assert field_of(error) == "paid_at"

    def test_paid_on_is_the_day_in_china(self) -> None:
        late_evening_utc = datetime(2024, 1, 14, 17, 0, tzinfo=UTC)  # 01:00 on the 15th in China

        check_contribution(
            contribution(paid_at=late_evening_utc),
            enrollment("310"),
            set(),
            birth_date=date(2024, 1, 15),
            today=date(2024, 1, 15),
        )

    def test_a_replay_must_be_the_same_payment(self) -> None:
        command = contribution()
        paid = Payment(
            "pay-1", "en-1", "p1", "202401", 65000, 52000, 13000, datetime(2024, 1, 15, tzinfo=UTC)
        )

        domain.check_replay(paid, command)
        with pytest.raises(Conflict):
            domain.check_replay(paid, contribution(amount_fen=66000, personal_part_fen=14000))


def test_contribution_months_count_distinct_months_per_insutype() -> None:
    employee = enrollment("310", end=date(2024, 3, 31))
    employee_again = enrollment("310", start=date(2024, 5, 1), enrollment_id="en-2")
    resident = enrollment("390", start=date(2024, 4, 1), enrollment_id="en-3")
    at = datetime(2024, 1, 15, tzinfo=UTC)
    payments = [
        Payment(f"pay-{period}", enrollment_id, "p1", period, 100, 0, 100, at)
        for enrollment_id, period in [("en-1", "202401"), ("en-1", "202402"), ("en-2", "202405")]
    ]

    months = domain.contribution_months([employee, employee_again, resident], payments)

    assert months == {"310": 3, "390": 0}


def test_status_on_a_day() -> None:
    ending = enrollment("310", end=date(2024, 6, 30))

    assert ending.status_on(date(2024, 6, 30)) == "active"
    assert ending.status_on(date(2024, 7, 1)) == "terminated"
    assert enrollment("390").status_on(date(2099, 1, 1)) == "active"


def test_problem_kinds() -> None:
    assert issubclass(InvalidField, Rejected)
    assert issubclass(domain.PersonNotFound, NotFound)
