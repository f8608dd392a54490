"""What an account event causes (个人账户收支实时告知). Pure: no Kafka, no I/O.

- ``notices``: the notices of one event by itself (templates, params, deterministic ids), the
  same the progress-notice processor made before this processor took them over;
- ``continuity``: the event applied to its account's state (``state``): the continuity check
  (a gap or a duplicate raises a data-quality signal and no notice), the low-balance alert
  (``policy``: the threshold per region), a redelivery causing the same again;
- ``SOURCE_TOPICS`` / ``TYPES``: what the processor reads (the others passed over unparsed).
"""

from chs_account_notices.rules.continuity import Applied, apply, expected_after
from chs_account_notices.rules.notices import BUSINESS_PARAMS, DIRECTORY_PARAMS, notices_for
from chs_account_notices.rules.policy import Policy
from chs_account_notices.rules.state import AccountState, dump, load
from chs_events.events.account import AccountEvent
from chs_events.events.base import EVENT_TYPES
from chs_events.topics import ACCOUNT_EVENTS

SOURCE_TOPICS: tuple[str, ...] = (ACCOUNT_EVENTS,)
# Every account event: the postings keep the balance, the opening is the baseline.
TYPES: frozenset[str] = frozenset(
    ce_type for ce_type, model in EVENT_TYPES.items() if issubclass(model, AccountEvent)
)

__all__ = [
    "BUSINESS_PARAMS",
    "DIRECTORY_PARAMS",
    "SOURCE_TOPICS",
    "TYPES",
    "AccountState",
    "Applied",
    "Policy",
    "apply",
    "dump",
    "expected_after",
    "load",
    "notices_for",
]
