"""Request and response bodies of the enrollment API, with OpenAPI examples.

Identity fields are the ``chs_events.fields`` types with this service's examples: a refused value
answers 422 with ``errors: [{"field": "id_number", "reason": "check digit is 5, expected 3"}]``.
Responses never carry a raw ID number or mobile, only their masked forms.
"""

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chs_enrollment import examples as ex
from chs_enrollment.model import Enrollment, Person
from chs_events import fields
from chs_events.events.institutions import INSTITUTION_CODE_PATTERN
from chs_events.fields import Identifier
from chs_events.masking import mask_birth_certificate, mask_id_number, mask_mobile
from chs_events.schemas import ChinaTime, PublicModel
from chs_events.vocabulary import INSUTYPE_NAMES, Insutype

IdNumber = Annotated[fields.IdNumber, Field(examples=[ex.ID_NUMBER])]
Mobile = Annotated[fields.Mobile, Field(examples=[ex.MOBILE])]
RegionCode = Annotated[fields.RegionCode, Field(examples=[ex.SHINAN])]
BirthCertificateNo = Annotated[fields.BirthCertificateNo, Field(examples=[ex.BIRTH_CERTIFICATE_NO])]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Fen = fields.PositiveFen
PartFen = fields.Fen
# The person id of the examples' ID number (the examples agree with one another).
PersonId = Annotated[fields.PersonId, Field(examples=[ex.PERSON_ID])]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonCreate(RequestBody):
    """Register a person; sex and birth date come from the ID number."""

    model_config = fields.examples(ex.PERSON_CREATE)
    id_number: IdNumber
    name: Name
    mobile: Mobile
    region_code: RegionCode


class ContactUpdate(RequestBody):
    """The new mobile: a one-time code goes to it; it takes effect when the code is confirmed
    (``POST /persons/{person_id}/contact/confirmation``)."""

    model_config = fields.examples({"mobile": ex.MOBILE_NEW})
    mobile: Mobile


class ContactConfirmation(RequestBody):
    """The one-time code sent to the requested mobile."""

    model_config = fields.examples({"code": "382716"})
    code: str = Field(pattern=r"^\d{6}$", description="6 digits, as the SMS gave them")


class EnrollmentCreate(RequestBody):
    """Resident (390: pooling_region) or employee (310: employer_id, contribution_base_fen;
    pools in the employer's region). start_date defaults to today."""

    model_config = fields.examples(
        {"insutype": "390", "pooling_region": ex.QINGDAO, "start_date": "2025-01-01"},
        {
            "insutype": "310",
            "employer_id": ex.EMPLOYER_ID,
            "contribution_base_fen": 650000,
            "start_date": "2025-01-01",
        },
    )
    insutype: Insutype
    pooling_region: RegionCode | None = None
    employer_id: Identifier | None = None
    contribution_base_fen: Fen | None = None
    start_date: date | None = None


class EmployerCreate(RequestBody):
    model_config = fields.examples({"name": ex.EMPLOYER_NAME, "region_code": ex.QINGDAO})
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    region_code: RegionCode


class EmployerCreated(PublicModel):
    """The API key is shown here once; only its hash is kept."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "employer_id": ex.EMPLOYER_ID,
                    "name": ex.EMPLOYER_NAME,
                    "region_code": ex.QINGDAO,
                    "api_key": ex.API_KEY,
                }
            ]
        }
    )
    employer_id: str
    name: str
    region_code: str
    api_key: str = Field(description="Send as X-API-Key; it cannot be shown again")


# An SMS tells an institution's name: no phone number (a run of 5 digits) and no control
# characters in it.
_NOT_IN_AN_INSTITUTION_NAME = re.compile(r"[0-9０-９]{5}|[\x00-\x1f\x7f]")


def _institution_name(name: str) -> str:
    if _NOT_IN_AN_INSTITUTION_NAME.search(name):
        raise PydanticCustomError(
            "invalid_institution_name", "no phone numbers or control characters in a name"
        )
    return name


InstitutionName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=100),
    AfterValidator(_institution_name),
    Field(description="The name an SMS tells"),
]
InstitutionLevel = Annotated[
    int, Field(strict=True, ge=1, le=3, description="Hospital level (一级/二级/三级)")
]


class InstitutionCreate(RequestBody):
    """A designated institution (定点医疗机构): its national code, the name an SMS tells, its
    level (一级/二级/三级) and its region."""

    model_config = fields.examples(ex.INSTITUTION)
    code: str = Field(
        pattern=INSTITUTION_CODE_PATTERN,
        description="National code of the institution: H and 11 digits",
        examples=[ex.INSTITUTION["code"]],
    )
    name: InstitutionName
    level: InstitutionLevel
    region: RegionCode


class InstitutionUpdate(RequestBody):
    """A registered institution's name and level as they now are (its code and region stay)."""

    model_config = fields.examples({"name": "青岛市崂山区中心医院", "level": 3})
    name: InstitutionName
    level: InstitutionLevel


class InstitutionPublic(PublicModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ex.INSTITUTION]})
    code: str
    name: str
    level: int
    region: str


class StaffMember(RequestBody):
    id_number: IdNumber
    name: Name
    mobile: Mobile
    region_code: RegionCode
    contribution_base_fen: Fen
    start_date: date


class StaffBatchAdd(RequestBody):
    """增员: all or nothing; each person is registered when new, then enrolled as 310."""

    model_config = fields.examples(ex.STAFF_BATCH_ADD)
    items: list[StaffMember] = Field(min_length=1, max_length=1000)


class StaffLeaver(RequestBody):
    """Name the person by id_number or person_id; end_date defaults to today."""

    id_number: IdNumber | None = None
    person_id: PersonId | None = None
    end_date: date | None = None

    @model_validator(mode="after")
    def _one_identifier(self) -> "StaffLeaver":
        if (self.id_number is None) == (self.person_id is None):
            raise PydanticCustomError("identifier", "give exactly one of id_number, person_id")
        return self


class StaffBatchRemove(RequestBody):
    """减员: all or nothing; only this employer's active staff."""

    model_config = fields.examples(ex.STAFF_BATCH_REMOVE)
    items: list[StaffLeaver] = Field(min_length=1, max_length=1000)


class StaffChangePublic(PublicModel):
    index: int = Field(description="Position of the item in the request")
    person_id: str
    enrollment_id: str
    registered: bool = Field(False, description="The person was new to the registry")


class StaffBatchResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ex.STAFF_BATCH_RESULT]})
    employer_id: str
    action: Literal["added", "removed"]
    count: int
    items: list[StaffChangePublic]


class NewbornCreate(RequestBody):
    """出生即参保: enrolled as a resident (390) from the birth date."""

    model_config = fields.examples(ex.NEWBORN_CREATE)
    birth_certificate_no: BirthCertificateNo
    name: Name
    sex: Literal["M", "F"]
    birth_date: date
    guardian_person_id: PersonId
    pooling_region: RegionCode


class ContributionCreate(RequestBody):
    """Idempotent by payment_id. personal_part_fen defaults to amount − employer part;
    paid_at to now."""

    model_config = fields.examples(ex.CONTRIBUTION_CREATE)
    payment_id: Identifier
    enrollment_id: Identifier
    period: Annotated[str, Field(pattern=r"^\d{4}(0[1-9]|1[0-2])$", description="YYYYMM")]
    amount_fen: Fen
    employer_part_fen: PartFen = 0
    personal_part_fen: PartFen | None = None
    paid_at: AwareDatetime | None = None


# --- responses ---------------------------------------------------------------------------------


class EnrollmentPublic(PublicModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ex.ENROLLMENT_EMPLOYEE]})
    enrollment_id: str
    person_id: str
    insutype: Insutype
    insutype_name: str
    pooling_region: str
    employer_id: str | None
    contribution_base_fen: int | None
    start_date: date
    end_date: date | None
    end_reason: str | None
    status: Literal["active", "terminated"] = Field(description="On today's date")

    @classmethod
    def of(cls, enrollment: Enrollment, today: date) -> "EnrollmentPublic":
        return cls.from_attributes(
            enrollment,
            insutype_name=INSUTYPE_NAMES[enrollment.insutype],
            status=enrollment.status_on(today),
        )


class PersonPublic(PublicModel):
    """A person as the API shows them: ID number, mobile and certificate number masked."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.PERSON_PUBLIC]})
    person_id: str
    id_number_masked: str | None
    name: str
    sex: Literal["M", "F"]
    birth_date: date
    mobile_masked: str | None
    region_code: str
    birth_certificate_no_masked: str | None
    guardian_person_id: str | None
    enrollments: list[EnrollmentPublic]

    @classmethod
    def of(cls, person: Person, enrollments: list[Enrollment], today: date) -> "PersonPublic":
        return cls.from_attributes(
            person,
            id_number_masked=_masked(person.id_number, mask_id_number),
            mobile_masked=_masked(person.mobile, mask_mobile),
            birth_certificate_no_masked=_masked(
                person.birth_certificate_no, mask_birth_certificate
            ),
            enrollments=[EnrollmentPublic.of(e, today) for e in enrollments],
        )


class ContactChangePublic(PublicModel):
    """A requested mobile change: ``confirmation_required`` (a code went to the new mobile,
    valid until ``expires_at``), or ``unchanged`` (the mobile is the person's already)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "person_id": ex.PERSON_ID,
                    "mobile_masked": "138****7890",
                    "status": "confirmation_required",
                    "expires_at": "2025-03-01T10:10:00+08:00",
                }
            ]
        }
    )
    person_id: str
    mobile_masked: str
    status: Literal["confirmation_required", "unchanged"]
    expires_at: ChinaTime | None


class ContributionPublic(PublicModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**ex.CONTRIBUTION_CREATE, "person_id": ex.PERSON_ID}]}
    )
    payment_id: str
    enrollment_id: str
    person_id: str
    period: str
    amount_fen: int
    employer_part_fen: int
    personal_part_fen: int
    paid_at: ChinaTime


class CertificateEnrollment(PublicModel):
    enrollment_id: str
    insutype: Insutype
    insutype_name: str
    pooling_region: str
    employer_id: str | None
    employer_name: str | None
    start_date: date
    end_date: date | None
    status: Literal["active", "terminated"]
    contribution_months: int


class CertificatePublic(BaseModel):
    """参保证明: masked identity, each enrollment with its status on the day of issue, and the
    months paid per insurance type."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.CERTIFICATE]})
    title: str = "参保证明"
    person_id: str
    name: str
    id_number_masked: str | None
    birth_certificate_no_masked: str | None
    sex: Literal["M", "F"]
    birth_date: date
    enrollments: list[CertificateEnrollment]
    contribution_months: dict[str, int] = Field(description="Distinct months paid per insutype")
    issued_at: AwareDatetime


def _masked(value: str | None, mask: Callable[[str], str]) -> str | None:
    return None if value is None else mask(value)
