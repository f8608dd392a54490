"""Pure rules of the SMS platform: what a notice needs, rendering, sender choice, message
status. The retries of a send follow ``NotificationSettings.send_backoff``
(``chs_events.retry.Backoff``)."""

from collections.abc import Collection, Mapping
from datetime import date
from enum import StrEnum

from chs_events.errors import Rejected
from chs_notification.templates import Template, UnknownTemplate, get_template

CHS_TAG = "【中国医疗保障】"
SENDER_IN_PROVINCE = "10639239"
SENDER_OUT_OF_PROVINCE = "106575376196"
HOME_PROVINCE = "370000"  # Shandong, GB/T 2260
ELDERLY_AGE = 60

# Filled from the contact directory when a notice does not carry them: the name of the person
# who reads the message (the recipient, or the guardian who receives a newborn's messages).
DIRECTORY_PARAMS = frozenset({"name", "guardian_name", "newborn_name"})
# ``newborn_name`` is the name of the person a notice names in ``newborn_person_id`` (the
# guardian receives it): result events carry no names.
DIRECTORY_REFERENCES = {"newborn_name": "newborn_person_id"}

# The directory's own messages about a mobile change (``handlers.handle_record_contact``).
CONTACT_CHANGED = "enrollment.contact_changed"  # to the previous number, once it took effect
CONTACT_CONFIRMATION = "enrollment.contact_confirmation"  # the one-time code, to the new one


# What the family must know still goes to a deceased person's number: money paid into the
# person's account after the death (a manual claim, the maternity allowance), which the heirs
# collect. ``NotificationSettings.still_sent_after_death`` configures it.
STILL_SENT_AFTER_DEATH = ("reimbursement.claim_paid", "maternity.paid")


def withheld_after_death(
    template_id: str, deceased_on: date | None, still_sent: Collection[str]
) -> str | None:
    """Why a message is not sent to the number of a person who died (``deceased_on``, from the
    contact), or None when it may go: the number's holder is alive, or the template is one the
    family must still get (``still_sent``)."""
    if deceased_on is None or template_id in still_sent:
        return None
    return f"recipient deceased on {deceased_on}: {template_id} is not sent after a death"


class MissingParam(KeyError):
    def __init__(self, template_id: str, missing: tuple[str, ...]) -> None:
        super().__init__(f"template {template_id} is missing params: {', '.join(missing)}")
        self.template_id = template_id
        self.missing = missing


class InvalidTransition(ValueError):
    pass


class UnsendableNotice(Rejected):
    """A notice that can never become an SMS: its template is unknown or it lacks params the
    directory does not fill (dead-lettered at once)."""


def check_notice(notice_id: str, template_id: str, params: Mapping[str, object]) -> Template:
    """The notice's template, when the notice can be rendered once its recipient is known."""
    try:
        template = get_template(template_id)
    except UnknownTemplate:
        raise UnsendableNotice(f"unknown template {template_id!r} (notice {notice_id})") from None
    missing = tuple(
        name for name in template.params if name not in params and name not in DIRECTORY_PARAMS
    )
    if missing:
        raise UnsendableNotice(
            f"template {template.template_id} is missing params: {', '.join(missing)} "
            f"(notice {notice_id})"
        )
    return template


def choose_sender(mobile_home_province: str | None, home_province: str = HOME_PROVINCE) -> str:
    """Both arguments are province-level GB/T 2260 codes; an unknown home goes out-of-province."""
    if mobile_home_province == home_province:
        return SENDER_IN_PROVINCE
    return SENDER_OUT_OF_PROVINCE


def render(template: Template, params: Mapping[str, str | int], *, age: int | None) -> str:
    # Every declared param is required, whichever variant is used, so a caller's omission
    # shows up for every recipient and not only for those under 60.
    missing = tuple(name for name in template.params if name not in params)
    if missing:
        raise MissingParam(template.template_id, missing)
    text = template.elderly_text if age is not None and age >= ELDERLY_AGE else template.text
    return CHS_TAG + text.format_map({name: str(params[name]) for name in template.params})


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNDELIVERABLE = "undeliverable"
    # Not sent, by the rules of its category (``rules``): the person opted out of push and
    # broadcast, or had as many of its category as the day's or month's cap allows.
    OPTED_OUT = "opted_out"
    CAPPED = "capped"


class DeliveryEvent(StrEnum):
    GATEWAY_ACCEPTED = "gateway_accepted"
    RETRIES_EXHAUSTED = "retries_exhausted"
    UNREACHABLE = "unreachable"  # no contact, the number is invalid, or its holder died
    PERSON_OPTED_OUT = "person_opted_out"  # a push or broadcast to a person who opted out
    OVER_CAP = "over_cap"  # a push or broadcast over the person's cap of the day or month
    RECEIPT_DELIVERED = "receipt_delivered"
    RECEIPT_FAILED = "receipt_failed"


TRANSITIONS: Mapping[tuple[MessageStatus, DeliveryEvent], MessageStatus] = {
    (MessageStatus.QUEUED, DeliveryEvent.GATEWAY_ACCEPTED): MessageStatus.SENT,
    (MessageStatus.QUEUED, DeliveryEvent.RETRIES_EXHAUSTED): MessageStatus.FAILED,
    (MessageStatus.QUEUED, DeliveryEvent.UNREACHABLE): MessageStatus.UNDELIVERABLE,
    (MessageStatus.QUEUED, DeliveryEvent.PERSON_OPTED_OUT): MessageStatus.OPTED_OUT,
    (MessageStatus.QUEUED, DeliveryEvent.OVER_CAP): MessageStatus.CAPPED,
    (MessageStatus.SENT, DeliveryEvent.RECEIPT_DELIVERED): MessageStatus.DELIVERED,
    (MessageStatus.SENT, DeliveryEvent.RECEIPT_FAILED): MessageStatus.FAILED,
}

TERMINAL_STATUSES = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.FAILED,
        MessageStatus.UNDELIVERABLE,
        MessageStatus.OPTED_OUT,
        MessageStatus.CAPPED,
    }
)


def next_status(current: MessageStatus, event: DeliveryEvent) -> MessageStatus:
    try:
        return TRANSITIONS[(current, event)]
    except KeyError:
        raise InvalidTransition(f"{event} is not allowed for a {current} message") from None


def delivery_success_rate(delivered: int, total_final: int) -> str:
    """Percentage with one decimal, rounded down so that 100.0 means every message arrived."""
    if not 0 <= delivered <= total_final:
        raise ValueError(f"delivered {delivered} out of {total_final} final messages")
    if total_final == 0:
        return "n/a"
    per_mille = delivered * 1000 // total_final
    return f"{per_mille // 10}.{per_mille % 10}"
