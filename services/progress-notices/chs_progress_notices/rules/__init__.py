"""Which notices a domain result event asks for (办理结果即时发送). Pure: no Kafka, no I/O.

Each business area has a module here with ``RULES`` (event model → rule), ``BUSINESS_PARAMS``
(per template, the params the processor fills from the event) and ``DIRECTORY_PARAMS`` (per
template, the greeting params notification fills from its contact directory — the event does
not carry the recipient's name). The two together are exactly the template's declared params.
An area may add ``REFERENCE_PARAMS`` (per template, the person ids a notice carries for
notification to look a directory param up by: the newborn of a newborn notice).
Every area module is found at import; the processor reads the topics of every event type that
has a rule. An area module may declare its own ``CATEGORY``; without one, its notices are
business results. The personal account's notices (category "account") are not here: the
account-notice processor (``services/account-notices``) makes them, with the state they need
(the ledger's continuity, the low-balance alert).
"""

import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.events.notices import NoticeRequested
from chs_events.events.notices import notice_id as notice_id  # the ids, as the rules give them
from chs_progress_notices.rules.model import Rule

CATEGORY = "business_result"
PRIORITY = "high"
_NOT_AREAS = {"model", "formatting"}

_areas = [
    importlib.import_module(f"{__name__}.{m.name}")
    for m in pkgutil.iter_modules(__path__)
    if m.name not in _NOT_AREAS
]
_RULES: Mapping[type[Event], Rule] = MappingProxyType(
    {model: rule for area in _areas for model, rule in area.RULES.items()}
)
BUSINESS_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {t: p for area in _areas for t, p in area.BUSINESS_PARAMS.items()}
)
DIRECTORY_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {t: p for area in _areas for t, p in area.DIRECTORY_PARAMS.items()}
)
REFERENCE_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {t: p for area in _areas for t, p in getattr(area, "REFERENCE_PARAMS", {}).items()}
)
_CATEGORIES: Mapping[type[Event], str] = MappingProxyType(
    {model: getattr(area, "CATEGORY", CATEGORY) for area in _areas for model in area.RULES}
)

SOURCE_TYPES: frozenset[str] = frozenset(model.ce_type for model in _RULES)
SOURCE_TOPICS: tuple[str, ...] = tuple(sorted({model.topic for model in _RULES}))


def notices_for(envelope: Envelope) -> list[NoticeRequested]:
    """The notices a source event asks for; [] for an event type that asks for none."""
    rule = _RULES.get(type(envelope.event))
    if rule is None:
        return []
    category = _CATEGORIES[type(envelope.event)]
    return [
        NoticeRequested.caused_by(
            envelope.id, template_id, recipient, params, category=category, priority=PRIORITY
        )
        for template_id, recipient, params in rule(envelope.event)
    ]
