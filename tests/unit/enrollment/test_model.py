"""The enrollment aggregates' state changes: each returns the new state and its events. No I/O."""

from datetime import UTC, date, datetime

import pytest
from stdnum.cn import ric

from chs_enrollment import domain
from chs_enrollment.commands import RecordContribution
from chs_enrollment.model import Employer, Enrollment, Person
from chs_events.errors import Conflict, InvalidField
from chs_events.events.contacts import PersonContact
from chs_events.events.enrollment import (
    ContactChanged,
    ContributionPaid,
    EnrollmentRegistered,
    EnrollmentTerminated,
    PersonRegistered,
    PoolingRegionChanged,
    StaffAdded,
    StaffRemoved,
)

pytestmark = pytest.mark.unit

QINGDAO, JINAN = "370200", "370100"
EMPLOYER = Employer("E0000000001", "青岛海川电子有限公司", QINGDAO)
ID_BODY = "37020219900307123"
ID_NUMBER = ID_BODY + ric.calc_check_digit(ID_BODY + "0")
PERSON = Person("p1", ID_NUMBER, "张伟", "M", date(1990, 3, 7), "13853212345", "370202")
BORN_AND_TODAY = {"birth_date": PERSON.birth_date, "today": date(2024, 2, 1)}


def staff_enrollment(**overrides: object) -> Enrollment:
    values: dict = {
        "enrollment_id": "en-1",
        "person_id": "p1",
        "insutype": "310",
        "pooling_region": QINGDAO,
        "start_date": date(2024, 1, 1),
        "employer_id": EMPLOYER.employer_id,
        "contribution_base_fen": 650000,
    }
    return Enrollment(**{**values, **overrides})


class TestPerson:
    def test_register_takes_sex_and_birth_date_from_the_id_number(self) -> None:
        person, registered = Person.register("p1", ID_NUMBER, "张伟", "13853212345", "370202")

        assert person == PERSON
        assert registered == PersonRegistered(
            person_id="p1", sex="M", birth_date=date(1990, 3, 7), region_code="370202"
        )
        assert person.contact() == PersonContact(
            person_id="p1", name="张伟", mobile="13853212345", birth_date=date(1990, 3, 7)
        )

    def test_a_newborn_has_no_mobile_and_names_the_guardian(self) -> None:
        person, registered = Person.register_newborn(
            "p2", "张小宝", "F", date(2025, 3, 1), QINGDAO, "Q370200001", "p1"
        )

        assert (person.id_number, person.mobile, person.guardian_person_id) == (None, None, "p1")
        assert person.birth_certificate_no == "Q370200001"
        assert registered.birth_date == date(2025, 3, 1)
        contact = person.contact()
        assert (contact.name, contact.mobile, contact.guardian_person_id) == ("张小宝", None, "p1")

    def test_a_new_mobile_raises_contact_changed(self) -> None:
        person, changed = PERSON.change_mobile("13953212345")

        assert person.mobile == "13953212345" and PERSON.mobile == "13853212345"
        assert changed == (
            ContactChanged(person_id="p1"),
            PersonContact(
                person_id="p1", name="张伟", mobile="13953212345", birth_date=date(1990, 3, 7)
            ),
        )

    def test_the_same_mobile_changes_nothing(self) -> None:
        assert PERSON.change_mobile(PERSON.mobile or "") == (PERSON, None)

    def test_enroll_as_a_resident(self) -> None:
        enrollment, registered = PERSON.enroll("en-9", "390", JINAN, date(2025, 1, 1), [])

        assert enrollment == Enrollment("en-9", "p1", "390", JINAN, date(2025, 1, 1))
        assert registered == EnrollmentRegistered(
            person_id="p1",
            enrollment_id="en-9",
            insutype="390",
            pooling_region=JINAN,
            start_date=date(2025, 1, 1),
            employer_id=None,
            employer_name=None,
            contribution_base_fen=None,
            at_birth=False,
        )

    def test_enroll_keeps_the_enrollment_rules(self) -> None:
        with pytest.raises(domain.AlreadyEnrolled):
            PERSON.enroll(
                "en-9",
                "310",
                QINGDAO,
                date(2025, 1, 1),
                [staff_enrollment()],
                employer=EMPLOYER,
                contribution_base_fen=650000,
            )
        with pytest.raises(InvalidField, match="before the birth date"):
            PERSON.enroll("en-9", "390", QINGDAO, date(1990, 1, 1), [])


class TestEmployerStaff:
    def test_add_staff_enrolls_in_the_employers_region(self) -> None:
        enrollment, (added, registered) = EMPLOYER.add_staff(
            PERSON, "en-9", 650000, date(2025, 1, 1), []
        )

        assert enrollment == Enrollment(
            "en-9",
            "p1",
            "310",
            QINGDAO,
            date(2025, 1, 1),
            employer_id=EMPLOYER.employer_id,
            contribution_base_fen=650000,
        )
        assert added == StaffAdded(
            person_id="p1",
            employer_id=EMPLOYER.employer_id,
            enrollment_id="en-9",
            contribution_base_fen=650000,
            start_date=date(2025, 1, 1),
        )
        assert registered.employer_name == EMPLOYER.name
        assert registered.contribution_base_fen == 650000

    def test_add_staff_needs_a_contribution_base(self) -> None:
        with pytest.raises(InvalidField, match="contribution base"):
            EMPLOYER.add_staff(PERSON, "en-9", 0, date(2025, 1, 1), [])

    def test_remove_staff_ends_the_enrollment_with_this_employer(self) -> None:
        resident = Enrollment("en-0", "p1", "390", QINGDAO, date(2020, 1, 1))

        ended, (removed, terminated) = EMPLOYER.remove_staff(
            [resident, staff_enrollment()], date(2025, 6, 30)
        )

        assert ended == staff_enrollment(end_date=date(2025, 6, 30), end_reason="left_employer")
        assert removed == StaffRemoved(
            person_id="p1",
            employer_id=EMPLOYER.employer_id,
            enrollment_id="en-1",
            end_date=date(2025, 6, 30),
        )
        assert terminated == EnrollmentTerminated(
            person_id="p1",
            enrollment_id="en-1",
            insutype="310",
            end_date=date(2025, 6, 30),
            reason="left_employer",
            employer_id=EMPLOYER.employer_id,
        )

    def test_remove_staff_refuses_someone_else_s_staff(self) -> None:
        other = Employer("E0000000002", "青岛北岸食品有限公司", QINGDAO)
        with pytest.raises(domain.NotStaff):
            other.remove_staff([staff_enrollment()], date(2025, 6, 30))
        with pytest.raises(domain.NotStaff):
            EMPLOYER.remove_staff(
                [staff_enrollment(end_date=date(2024, 12, 31))], date(2025, 6, 30)
            )


class TestEnrollment:
    def test_a_transfer_moves_the_pooling_region(self) -> None:
        moved, changed = staff_enrollment().move_pooling_region(
            "t-1", QINGDAO, JINAN, date(2026, 11, 22)
        )

        assert moved == staff_enrollment(pooling_region=JINAN)
        assert changed == PoolingRegionChanged(
            person_id="p1",
            enrollment_id="en-1",
            insutype="310",
            from_region=QINGDAO,
            to_region=JINAN,
            changed_on=date(2026, 11, 22),
            transfer_id="t-1",
        )

    @pytest.mark.parametrize(
        ("enrollment", "reason"),
        [
            (
                staff_enrollment(insutype="390", employer_id=None, contribution_base_fen=None),
                "not an employee",
            ),
            (staff_enrollment(pooling_region=JINAN), "not in the transfer's from_region 370200"),
        ],
    )
    def test_a_transfer_that_does_not_fit(self, enrollment: Enrollment, reason: str) -> None:
        with pytest.raises(domain.TransferNotApplicable, match=reason):
            enrollment.move_pooling_region("t-1", QINGDAO, "320500", date(2026, 11, 22))

    def test_pay_records_a_contribution(self) -> None:
        paid_at = datetime(2024, 1, 15, tzinfo=UTC)
        command = RecordContribution("pay-1", "en-1", "202401", 65000, 52000, 13000, paid_at)

        payment, event = staff_enrollment().pay(command, set(), **BORN_AND_TODAY)

        assert (payment.person_id, payment.period, payment.amount_fen) == ("p1", "202401", 65000)
        assert event == ContributionPaid(
            person_id="p1",
            payment_id="pay-1",
            enrollment_id="en-1",
            insutype="310",
            period="202401",
            amount_fen=65000,
            employer_part_fen=52000,
            personal_part_fen=13000,
            paid_at=paid_at,
        )
        with pytest.raises(Conflict, match="already paid"):
            staff_enrollment().pay(command, {"202401"}, **BORN_AND_TODAY)
