"""Events of the remote-care service (异地就医备案), on ``chs.remote-care.events``.

A filing is approved the moment it is filed (秒备案), so ``RemoteCareFiled`` is the approval.
Each event carries what reimbursement needs to keep its own view of who is covered where and
when: filing id, type, category, destination, validity and the admission date of a back-dated
temporary filing. A refused filing changes nothing and publishes nothing.
"""

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Literal

from pydantic import Field

from chs_events.events.base import Event, register
from chs_events.topics import REMOTE_CARE_EVENTS

FilingType = Literal["long_term", "temporary"]
# long_term: 异地安置退休, 异地长期居住, 常驻异地工作; temporary: 转诊转院, 急诊抢救, 自行外出就医
FilingCategory = Literal[
    "relocated_retiree",
    "long_term_resident",
    "stationed_worker",
    "referral",
    "emergency",
    "self_referred",
]
RegionCode = str

# How a filing's type and category read to a person (in an SMS, in an answer).
FILING_TYPE_NAMES: Mapping[FilingType, str] = MappingProxyType(
    {"long_term": "长期", "temporary": "临时"}
)
CATEGORY_NAMES: Mapping[FilingCategory, str] = MappingProxyType(
    {
        "relocated_retiree": "异地安置退休",
        "long_term_resident": "异地长期居住",
        "stationed_worker": "常驻异地工作",
        "referral": "转诊转院",
        "emergency": "急诊抢救",
        "self_referred": "自行外出就医",
    }
)


class RemoteCareEvent(Event):
    topic = REMOTE_CARE_EVENTS
    producer = "remote-care"

    filing_id: str
    filing_type: FilingType
    category: FilingCategory
    destination_region: RegionCode = Field(
        description="GB/T 2260 code of the place of care; a city or province covers its parts"
    )
    valid_from: date
    valid_until: date | None = Field(description="Last covered day; None: until revoked")

    @property
    def subject(self) -> str:
        return self.filing_id


@register
class RemoteCareFiled(RemoteCareEvent):
    """A filing was made and approved at once on the person's commitment (秒备案)."""

    ce_type = "chs.remote-care.filed.v1"
    home_region: RegionCode = Field(description="The pooling region the filing is made from")
    insutype: Literal["310", "390"]
    enrollment_id: str
    filed_on: date
    admission_date: date | None = Field(
        default=None, description="Temporary: the admission date it was back-dated to"
    )
    back_dated: bool = False


@register
class RemoteCareRevoked(RemoteCareEvent):
    """A filing was revoked; care from ``revoked_on`` on is no longer covered by it."""

    ce_type = "chs.remote-care.revoked.v1"
    revoked_on: date
    reason: str | None = None


@register
class RemoteCareExpired(RemoteCareEvent):
    """A temporary filing reached the end of its validity (``valid_until``)."""

    ce_type = "chs.remote-care.expired.v1"
