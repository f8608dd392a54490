"""The push service's domain rules that are not the profile's or the segment's (no I/O): the
masked ids of a preview, a campaign's template and params, its region, its notices' ids, the
ranks of their statuses and the fan-out's pace."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from chs_events.errors import Conflict, InvalidField, NotFound
from chs_events.events.notices import notice_id
from chs_events.events.push import CAMPAIGN_TEMPLATES, CampaignKind, CampaignTemplate
from chs_events.masking import mask_id_number

SHOWN = "a person id shows its first and last four characters only"

CampaignStatus = Literal["draft", "published", "running", "completed", "cancelled"]
TargetStatus = Literal["sent", "delivered", "failed", "undeliverable", "opted_out", "capped"]
# A notice's status only moves forward: sent, then a final one (a redelivered or late "sent"
# never undoes "delivered").
STATUS_RANK: Mapping[str, int] = {
    "sent": 1,
    "delivered": 2,
    "failed": 2,
    "undeliverable": 2,
    "opted_out": 2,
    "capped": 2,
}
PROGRESS = ("targeted", "queued", *STATUS_RANK)


class CampaignNotFound(NotFound):
    pass


class CampaignNotChangeable(Conflict):
    """A transition the campaign's status does not allow (409, ``status_now``)."""


def masked(person_id: str) -> str:
    """A person id as a preview shows it: p3a9************************1f0e."""
    return mask_id_number(person_id)


def campaign_template(template_id: str) -> CampaignTemplate:
    """The template a campaign may send (a push or broadcast one of notification's registry);
    422 on ``template_id`` otherwise."""
    try:
        return CAMPAIGN_TEMPLATES[template_id]
    except KeyError:
        known = ", ".join(sorted(CAMPAIGN_TEMPLATES))
        raise InvalidField("template_id", f"not a push or broadcast template ({known})") from None


def checked_params(template_id: str, params: Mapping[str, str]) -> dict[str, str]:
    """The operator's params of the template: exactly those it declares, each of its format
    (no free text reaches an SMS); 422 on ``params`` otherwise."""
    declared = campaign_template(template_id).params
    if set(params) != set(declared):
        raise InvalidField("params", f"the template {template_id} takes {sorted(declared)}")
    for name, pattern in declared.items():
        if not re.fullmatch(pattern, params[name]):
            raise InvalidField("params", f"{name} does not match {pattern}")
    return dict(params)


def kind_of(template_id: str) -> CampaignKind:
    return campaign_template(template_id).category


def region_of(prefix: str) -> str:
    """The GB/T 2260 code a region prefix stands for: 37 → 370000, 3702 → 370200."""
    return prefix.ljust(6, "0")


def prefix_of(region: str) -> str:
    """The prefix of a region's codes: 370000 → 37, 370200 → 3702, 370203 → 370203."""
    for size in (2, 4):
        if region[size:] == "0" * (6 - size):
            return region[:size]
    return region


def campaign_notice_id(campaign_id: str, template_id: str, person_id: str) -> str:
    """The notice of a campaign to a person: the same whenever the fan-out writes it again
    (notification sends one SMS per notice id)."""
    return notice_id(campaign_id, template_id, person_id)


@dataclass(frozen=True)
class Pace:
    """At most ``per_second`` notices a second over a run of pages: the wait before the next
    page, given how many were written since the run began and how long ago that was."""

    per_second: float

    def page_size(self, wanted: int) -> int:
        """A page holds at most a second's notices (so the pace is kept page by page)."""
        return max(1, min(wanted, int(self.per_second)))

    def wait(self, written: int, elapsed: float) -> float:
        return max(0.0, written / self.per_second - elapsed)
