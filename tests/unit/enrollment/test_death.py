"""What a verified death (生存认证) changes in enrollment: the rules and the person's state change.
No I/O."""

from datetime import UTC, date, datetime

import pytest
from stdnum.cn import ric

from chs_enrollment import domain
from chs_enrollment.commands import NewStaff, RecordContribution
from chs_enrollment.model import Employer, Enrollment, Person
from chs_events.errors import InvalidField
from chs_events.events.contacts import PersonContact
from chs_events.events.enrollment import EnrollmentTerminated, PersonDeceased

pytestmark = pytest.mark.unit

QINGDAO = "370200"
EMPLOYER = Employer("E0000000001", "青岛海川电子有限公司", QINGDAO)
ID_BODY = "37020219500307123"
ID_NUMBER = ID_BODY + ric.calc_check_digit(ID_BODY + "0")
PERSON = Person("p1", ID_NUMBER, "张伟", "M", date(1950, 3, 7), "13853212345", "370202")
DIED = date(2026, 3, 10)


def enrollment(enrollment_id: str = "en-1", **overrides: object) -> Enrollment:
    values: dict = {
        "enrollment_id": enrollment_id,
        "person_id": "p1",
        "insutype": "310",
        "pooling_region": QINGDAO,
        "start_date": date(2024, 1, 1),
        "employer_id": EMPLOYER.employer_id,
        "contribution_base_fen": 650000,
    }
    return Enrollment(**{**values, **overrides})


def resident(enrollment_id: str = "en-2", **overrides: object) -> Enrollment:
    values: dict = {"insutype": "390", "employer_id": None, "contribution_base_fen": None}
    return enrollment(enrollment_id, **{**values, **overrides})


class TestDeathEnd:
    def test_an_open_enrollment_ends_on_the_date_of_death(self) -> None:
        assert domain.death_end(enrollment(), DIED) == DIED

    def test_an_enrollment_ending_after_the_death_ends_on_it(self) -> None:
        ends_later = enrollment(end_date=date(2026, 3, 31), end_reason=domain.LEFT_EMPLOYER)
        assert domain.death_end(ends_later, DIED) == DIED

    def test_an_enrollment_ended_before_the_death_keeps_its_end(self) -> None:
        left = enrollment(end_date=date(2025, 12, 31), end_reason=domain.LEFT_EMPLOYER)
        assert domain.death_end(left, DIED) is None
        on_the_day = enrollment(end_date=DIED, end_reason=domain.LEFT_EMPLOYER)
        assert domain.death_end(on_the_day, DIED) is None

    def test_an_enrollment_begun_after_the_death_ends_on_its_first_day(self) -> None:
        later = resident(start_date=date(2026, 4, 1))
        assert domain.death_end(later, DIED) == date(2026, 4, 1)

    def test_a_corrected_date_moves_the_end_a_death_gave(self) -> None:
        ended = enrollment(end_date=DIED, end_reason=domain.DEATH)
        assert domain.death_end(ended, date(2026, 2, 1)) == date(2026, 2, 1)
        assert domain.death_end(ended, date(2026, 4, 1)) == date(2026, 4, 1)
        assert domain.death_end(ended, DIED) is None  # the same date: nothing to move


class TestDeathChanges:
    def test_a_first_record_changes_and_the_same_date_again_does_not(self) -> None:
        assert domain.death_changes(None, DIED, correction=False)
        assert not domain.death_changes(DIED, DIED, correction=False)
        assert not domain.death_changes(DIED, DIED, correction=True)

    def test_a_correction_moves_the_date_and_records_a_death_not_known_before(self) -> None:
        assert domain.death_changes(DIED, date(2026, 3, 1), correction=True)
        assert domain.death_changes(None, date(2026, 3, 1), correction=True)

    def test_a_first_record_of_another_date_is_refused(self) -> None:
        with pytest.raises(domain.DeathAlreadyRecorded, match="must come as a correction"):
            domain.death_changes(DIED, date(2026, 3, 1), correction=False)


class TestPersonDies:
    def test_the_death_ends_the_enrollments_covering_a_day_after_it(self) -> None:
        left = resident(
            "en-0", start_date=date(2020, 1, 1), end_date=date(2023, 12, 31), end_reason="other"
        )
        open_310, open_390 = enrollment(), resident(start_date=date(2025, 1, 1))

        dead, ended, events = PERSON.die(DIED, "rec-1", [left, open_310, open_390])

        assert dead.deceased_on == DIED and PERSON.deceased_on is None
        assert [(e.enrollment_id, e.end_date, e.end_reason) for e in ended] == [
            ("en-1", DIED, "death"),
            ("en-2", DIED, "death"),
        ]
        assert events == [
            PersonDeceased(person_id="p1", date_of_death=DIED, record_id="rec-1"),
            EnrollmentTerminated(
                person_id="p1",
                enrollment_id="en-1",
                insutype="310",
                end_date=DIED,
                reason="death",
                employer_id=EMPLOYER.employer_id,
            ),
            EnrollmentTerminated(
                person_id="p1", enrollment_id="en-2", insutype="390", end_date=DIED, reason="death"
            ),
            PersonContact(
                person_id="p1",
                name="张伟",
                mobile="13853212345",
                birth_date=date(1950, 3, 7),
                deceased_on=DIED,
            ),
        ]

    def test_a_corrected_date_moves_the_person_and_the_ends(self) -> None:
        dead, ended, _ = PERSON.die(DIED, "rec-1", [enrollment()])
        earlier = date(2026, 2, 20)

        corrected, moved, events = dead.die(earlier, "rec-2", ended)

        assert corrected.deceased_on == earlier
        assert [(e.enrollment_id, e.end_date) for e in moved] == [("en-1", earlier)]
        assert events[0] == PersonDeceased(
            person_id="p1", date_of_death=earlier, previous_date_of_death=DIED, record_id="rec-2"
        )
        assert isinstance(events[1], EnrollmentTerminated) and events[1].end_date == earlier
        assert isinstance(events[2], PersonContact) and events[2].deceased_on == earlier

    def test_the_date_already_recorded_changes_nothing(self) -> None:
        dead, ended, _ = PERSON.die(DIED, "rec-1", [enrollment()])
        assert dead.die(DIED, "rec-1", ended) == (dead, [], [])

    def test_a_deceased_person_is_not_enrolled(self) -> None:
        dead, _, _ = PERSON.die(DIED, "rec-1", [])
        with pytest.raises(domain.PersonIsDeceased, match="died on 2026-03-10"):
            dead.enroll("en-9", "390", QINGDAO, date(2026, 4, 1), [])
        with pytest.raises(domain.PersonIsDeceased):  # not even from before the death
            dead.enroll("en-9", "390", QINGDAO, date(2026, 1, 1), [])
        with pytest.raises(domain.PersonIsDeceased):
            EMPLOYER.add_staff(dead, "en-9", 650000, date(2026, 4, 1), [])

    def test_staff_of_a_death_recorded_before_registration_are_refused(self) -> None:
        item = NewStaff(ID_NUMBER, "张伟", "13853212345", "370202", 650000, date(2026, 4, 1))
        domain.check_new_staff(item, None, [])
        with pytest.raises(domain.PersonIsDeceased):
            domain.check_new_staff(item, None, [], DIED)


LIFE = {"birth_date": PERSON.birth_date, "today": date(2026, 5, 1)}


class TestContributionAfterDeath:
    def pay(self, period: str) -> RecordContribution:
        return RecordContribution(
            f"pay-{period}", "en-1", period, 120000, 90000, 30000, datetime(2026, 5, 1, tzinfo=UTC)
        )

    def test_the_month_of_death_is_paid_and_a_later_one_refused(self) -> None:
        _, [ended], _ = PERSON.die(DIED, "rec-1", [enrollment()])

        payment, _ = ended.pay(self.pay("202603"), set(), **LIFE)
        assert payment.period == "202603"
        with pytest.raises(InvalidField) as refused:
            ended.pay(self.pay("202604"), set(), **LIFE)
        assert refused.value.detail == (
            "period: 202604 is after the month of the person's death (2026-03-10)"
        )
