"""JSON logs, one object per line, with personal data masked.

Free text (the message, string values, exception messages and tracebacks) goes through
``redact``: ID numbers, mobiles and the row values PostgreSQL echoes in its error details.
A person's name cannot be found in free text, so names must reach logs as structured fields:
the values of the keys in ``SENSITIVE_KEYS`` (at any depth of ``extra``) are masked whole.
"""

import dataclasses
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from chs_events.masking import (
    mask_birth_certificate,
    mask_id_number,
    mask_mobile,
    mask_name,
    redact,
)

_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# Keys holding a person's name. An explicit list: most keys ending in _name name a thing
# (institution_name, template_name, region_name, relation_name), not a person.
_NAME_KEYS = {
    "name",
    "full_name",
    "real_name",
    "person_name",
    "guardian_name",
    "newborn_name",
    "child_name",
    "mother_name",
    "father_name",
    "spouse_name",
    "applicant_name",
    "insured_name",
    "patient_name",
    "contact_name",
    "holder_name",
    "payee_name",
    "agent_name",
    "doctor_name",
}
_MOBILE_KEYS = {
    "mobile",
    "mobiles",
    "mobile_number",
    "guardian_mobile",
    "contact_mobile",
    "phone",
    "phones",
    "phone_number",
    "contact_phone",
    "telephone",
}
_ID_NUMBER_KEYS = {
    "id_number",
    "id_numbers",
    "id_no",
    "id_card",
    "id_card_no",
    "guardian_id_number",
    "mother_id_number",
}


def _number_mask(mask: Callable[[str], str]) -> Callable[[str], str]:
    """A number as ``redact`` writes it when it finds one ("+86 138****2345"), else masked whole."""

    def masked(value: str) -> str:
        redacted = redact(value)
        return redacted if redacted != value else mask(value)

    return masked


SENSITIVE_KEYS: dict[str, Callable[[str], str]] = {
    **dict.fromkeys(_NAME_KEYS, mask_name),
    **dict.fromkeys(_MOBILE_KEYS, _number_mask(mask_mobile)),
    **dict.fromkeys(_ID_NUMBER_KEYS, _number_mask(mask_id_number)),
    "birth_certificate_no": mask_birth_certificate,
}


def _masked(mask: Callable[[str], str], value: Any) -> Any:
    """``value`` of a sensitive key: every string in it masked whole."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dict):
        return {k: _masked(mask, v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_masked(mask, v) for v in value]
    return mask(value if isinstance(value, str) else str(value))


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _field(k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    return value


def _field(key: Any, value: Any) -> Any:
    mask = SENSITIVE_KEYS.get(key) if isinstance(key, str) else None
    return _redacted(value) if mask is None else _masked(mask, value)


def _default(value: Any) -> Any:
    """What orjson cannot serialise itself (and dataclasses): as fields, else as redacted text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _redacted(dataclasses.asdict(value))
    for as_dict in ("model_dump", "_asdict"):
        method = getattr(value, as_dict, None)
        if callable(method):
            return _redacted(method())
    items = getattr(value, "items", None)  # mappings, asyncpg records
    if callable(items):
        return _redacted(dict(items()))
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = _field(name, value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(
            entry, default=_default, option=orjson.OPT_PASSTHROUGH_DATACLASS
        ).decode()


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
