"""Pure rules of the SMS platform: rendering, sender choice, message status, retries."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from chs_notification.templates import Template

CHS_TAG = "【中国医疗保障】"
SENDER_IN_PROVINCE = "10639239"
SENDER_OUT_OF_PROVINCE = "106575376196"
HOME_PROVINCE = "370000"  # Shandong, GB/T 2260
ELDERLY_AGE = 60

INSUTYPE_NAMES: Mapping[str, str] = {
    "310": "职工基本医疗保险",
    "390": "城乡居民基本医疗保险",
    "392": "城乡居民大病保险",
}


class MissingParam(KeyError):
    def __init__(self, template_id: str, missing: tuple[str, ...]) -> None:
        super().__init__(f"template {template_id} is missing params: {', '.join(missing)}")
        self.template_id = template_id
        self.missing = missing


class InvalidTransition(ValueError):
    pass


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


def format_fen(fen: int) -> str:
    # Amounts arrive from JSON, where a float can slip in; refuse it rather than round it.
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"amounts are integer fen, got {type(fen).__name__}")
    yuan, cents = divmod(abs(fen), 100)
    sign = "-" if fen < 0 else ""
    return f"{sign}{yuan}.{cents:02d}"


def insutype_name(code: str) -> str:
    return INSUTYPE_NAMES.get(code, code)


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNDELIVERABLE = "undeliverable"


class DeliveryEvent(StrEnum):
    GATEWAY_ACCEPTED = "gateway_accepted"
    RETRIES_EXHAUSTED = "retries_exhausted"
    UNREACHABLE = "unreachable"  # no contact, opted out, or the number is invalid
    RECEIPT_DELIVERED = "receipt_delivered"
    RECEIPT_FAILED = "receipt_failed"


TRANSITIONS: Mapping[tuple[MessageStatus, DeliveryEvent], MessageStatus] = {
    (MessageStatus.QUEUED, DeliveryEvent.GATEWAY_ACCEPTED): MessageStatus.SENT,
    (MessageStatus.QUEUED, DeliveryEvent.RETRIES_EXHAUSTED): MessageStatus.FAILED,
    (MessageStatus.QUEUED, DeliveryEvent.UNREACHABLE): MessageStatus.UNDELIVERABLE,
    (MessageStatus.SENT, DeliveryEvent.RECEIPT_DELIVERED): MessageStatus.DELIVERED,
    (MessageStatus.SENT, DeliveryEvent.RECEIPT_FAILED): MessageStatus.FAILED,
}

TERMINAL_STATUSES = frozenset(
    {MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.UNDELIVERABLE}
)


def next_status(current: MessageStatus, event: DeliveryEvent) -> MessageStatus:
    try:
        return TRANSITIONS[(current, event)]
    except KeyError:
        raise InvalidTransition(f"{event} is not allowed for a {current} message") from None


@dataclass(frozen=True)
class RetryPolicy:
    """`attempt` counts the sends already made, starting at 1."""

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay_s <= 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError(f"inconsistent retry policy {self}")

    def should_retry(self, attempt: int) -> bool:
        return attempt < self.max_attempts

    def delay_for(self, attempt: int) -> float:
        if attempt < 1:
            raise ValueError(f"attempts start at 1, got {attempt}")
        # Doubling step by step stops at the cap, where 2 ** attempt would overflow a float.
        delay = self.base_delay_s
        for _ in range(attempt - 1):
            if delay >= self.max_delay_s:
                break
            delay *= 2
        return min(delay, self.max_delay_s)


def delivery_success_rate(delivered: int, total_final: int) -> str:
    """Percentage with one decimal, rounded down so that 100.0 means every message arrived."""
    if not 0 <= delivered <= total_final:
        raise ValueError(f"delivered {delivered} out of {total_final} final messages")
    if total_final == 0:
        return "n/a"
    per_mille = delivered * 1000 // total_final
    return f"{per_mille // 10}.{per_mille % 10}"
