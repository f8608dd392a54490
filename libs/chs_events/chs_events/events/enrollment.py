"""Events of the enrollment service (参保登记), on ``chs.enrollment.events``.

Seven consumer groups read this topic: it carries no names, mobiles or ID numbers. A person's
contact is on ``chs.enrollment.contacts`` (``events.contacts``), for notification only."""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from chs_events.events.base import Event, register
from chs_events.fields import Fen, PositiveFen
from chs_events.topics import ENROLLMENT_EVENTS

Insutype = Literal["310", "390"]
RegionCode = str


class EnrollmentEvent(Event):
    topic = ENROLLMENT_EVENTS
    producer = "enrollment"


@register
class PersonRegistered(EnrollmentEvent):
    """A person entered the registry: what the age and maternity rules need. The name and
    mobile go to notification alone (``PersonContact``)."""

    ce_type = "chs.enrollment.person.registered.v2"
    sex: Literal["M", "F"]
    birth_date: date
    region_code: RegionCode


@register
class ContactChanged(EnrollmentEvent):
    """A confirmed mobile change took effect; the number itself goes to notification alone
    (``PersonContact``)."""

    ce_type = "chs.enrollment.person.contact-changed.v2"


@register
class PersonDeceased(EnrollmentEvent):
    """The person's death was verified (生存认证: a death record of civil affairs, the police or
    health, ``chs.feeds.deaths``): every enrollment covering a day after ``date_of_death`` ends
    on it (EnrollmentTerminated, reason ``death``). A corrected date is this event again, with
    ``previous_date_of_death``, and the ended enrollments' terminations again with the new end."""

    ce_type = "chs.enrollment.person.deceased.v1"
    date_of_death: date
    previous_date_of_death: date | None = Field(
        default=None, description="Set when a correction moved the date of death"
    )
    record_id: str = Field(description="The death record's id (chs.feeds.deaths)")


@register
class EnrollmentRegistered(EnrollmentEvent):
    """An enrollment (参保) started: employee basic (310) or resident basic (390)."""

    ce_type = "chs.enrollment.registered.v1"
    enrollment_id: str
    insutype: Insutype
    pooling_region: RegionCode
    start_date: date
    employer_id: str | None = None
    employer_name: str | None = None
    contribution_base_fen: Fen | None = None
    at_birth: bool = Field(
        default=False,
        description=(
            "Enrolled at birth (出生即参保): the guardian is told by NewbornEnrolled instead"
        ),
    )


@register
class EnrollmentTerminated(EnrollmentEvent):
    ce_type = "chs.enrollment.terminated.v1"
    enrollment_id: str
    insutype: Insutype
    end_date: date
    reason: Literal["left_employer", "death", "moved", "other"]
    employer_id: str | None = None


@register
class StaffAdded(EnrollmentEvent):
    """An employer's HR system added the person to its staff (增员)."""

    ce_type = "chs.enrollment.staff.added.v1"
    employer_id: str
    enrollment_id: str
    contribution_base_fen: Fen
    start_date: date


@register
class StaffRemoved(EnrollmentEvent):
    """An employer's HR system removed the person from its staff (减员)."""

    ce_type = "chs.enrollment.staff.removed.v1"
    employer_id: str
    enrollment_id: str
    end_date: date


@register
class NewbornEnrolled(EnrollmentEvent):
    """A newborn enrolled at birth (出生即参保); notices go to the guardian. The newborn's name
    goes to notification alone (``PersonContact``)."""

    ce_type = "chs.enrollment.newborn.enrolled.v2"
    enrollment_id: str
    guardian_person_id: str
    birth_date: date
    pooling_region: RegionCode
    start_date: date


@register
class ContributionPaid(EnrollmentEvent):
    ce_type = "chs.enrollment.contribution.paid.v1"
    payment_id: str
    enrollment_id: str
    insutype: Insutype
    period: str = Field(pattern=r"^\d{4}(0[1-9]|1[0-2])$", description="YYYYMM")
    amount_fen: PositiveFen
    employer_part_fen: Fen
    personal_part_fen: Fen
    paid_at: datetime


@register
class PoolingRegionChanged(EnrollmentEvent):
    """An enrollment moved to another pooling region: a relationship transfer completed."""

    ce_type = "chs.enrollment.pooling-region.changed.v1"
    enrollment_id: str
    insutype: Insutype
    from_region: RegionCode
    to_region: RegionCode
    changed_on: date
    transfer_id: str
