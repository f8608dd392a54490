"""What an account event causes (个人账户收支实时告知). Pure: no Kafka, no I/O.

- ``notices``: the notices of one event by itself (templates, params, deterministic ids), the
  same the progress-notice processor made before this processor took them over;
- ``continuity``: the event applied to its account's state (``state``): the continuity check
  (a gap or a duplicate raises a data-quality signal and no notice), the low-balance alert
  (``policy``: the threshold per region), a redelivery causing the same again;
- coalescing (``continuity``, where the policy turns it on): a burst of small debits told as
  one notice when its window ends, by the account's next posting or a tick (``ticked``);
- ``SOURCE_TOPICS`` / ``TYPES``: what the processor reads (the others passed over unparsed).
"""

from chs_account_notices.rules.continuity import (
    Applied,
    Ticked,
    apply,
    expected_after,
    pending_after,
    ticked,
)
from chs_account_notices.rules.notices import BUSINESS_PARAMS, DIRECTORY_PARAMS, notices_for
from chs_account_notices.rules.policy import Policy
from chs_account_notices.rules.state import (
    AccountState,
    Pending,
    dump,
    dump_pending,
    load,
    load_pending,
    pending_key,
)
from chs_events.events.account import AccountEvent
from chs_events.events.base import EVENT_TYPES
from chs_events.events.ticks import AccountNoticesTicked
from chs_events.topics import ACCOUNT_EVENTS, ACCOUNT_NOTICES_TICKS

# The ticks are co-partitioned with the account events (the processor's clock, read in the
# partition of the accounts it closes bursts of).
SOURCE_TOPICS: tuple[str, ...] = (ACCOUNT_EVENTS, ACCOUNT_NOTICES_TICKS)
# Every account event (the postings keep the balance, the opening is the baseline), the ticks.
TYPES: frozenset[str] = frozenset(
    ce_type for ce_type, model in EVENT_TYPES.items() if issubclass(model, AccountEvent)
) | {AccountNoticesTicked.ce_type}

__all__ = [
    "BUSINESS_PARAMS",
    "DIRECTORY_PARAMS",
    "SOURCE_TOPICS",
    "TYPES",
    "AccountState",
    "Applied",
    "Pending",
    "Policy",
    "Ticked",
    "apply",
    "dump",
    "dump_pending",
    "expected_after",
    "load",
    "load_pending",
    "notices_for",
    "pending_after",
    "pending_key",
    "ticked",
]
