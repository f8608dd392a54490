"""What the processor keeps per account, and its bytes in a faust table (no I/O).

One table, ``accounts``, keyed by ``account_id`` and written to the partition of the account's
events (its holder's ``person_id``), so co-partitioned with ``chs.account.events``:

- ``balance_fen``: the last balance after the ledger stated (None until a baseline: the
  account's opening, balance 0, or else the first posting seen);
- ``region``: the pooling region (opening, transfers), for the region's policy;
- ``armed``: whether the low-balance alert may be sent (off once sent; on again when the
  balance is at or above the threshold);
- ``recent``: the last postings applied (``KEPT_POSTINGS``), newest last, each with what it
  caused: a posting redelivered (its event id among them) causes the same again and changes
  nothing, and a transaction id among them under another event id is a duplicate.

The bytes are compact JSON arrays (positional).
"""

from dataclasses import dataclass
from typing import Literal

import orjson

# How many postings of an account are kept: the redeliveries recognized and the duplicates found
# are among these (a redelivery is at most a few commit intervals old).
KEPT_POSTINGS = 100

Verdict = Literal["told", "gap", "duplicate"]
VERDICTS: tuple[Verdict, ...] = ("told", "gap", "duplicate")


@dataclass(frozen=True)
class Posting:
    """A posting applied, and what it caused."""

    event_id: str
    transaction_id: str
    verdict: Verdict
    expected_fen: int | None = None  # a gap or duplicate: the balance after it should state
    previous_event_id: str | None = None  # a gap or duplicate: the posting checked against
    alert_threshold_fen: int | None = None  # told, and the low-balance alert went with it


@dataclass(frozen=True)
class AccountState:
    balance_fen: int | None = None
    region: str | None = None
    armed: bool = False
    recent: tuple[Posting, ...] = ()

    @property
    def last(self) -> Posting | None:
        """The last posting whose balance after is the balance (not a duplicate)."""
        return next((p for p in reversed(self.recent) if p.verdict != "duplicate"), None)

    def applied(self, event_id: str) -> Posting | None:
        """The posting of this event id, if it was applied (a redelivery)."""
        return next((p for p in self.recent if p.event_id == event_id), None)

    def first_of(self, transaction_id: str) -> Posting | None:
        """The posting that applied this transaction (not a duplicate of it)."""
        return next(
            (
                p
                for p in self.recent
                if p.transaction_id == transaction_id and p.verdict != "duplicate"
            ),
            None,
        )


def dump(state: AccountState) -> bytes:
    return orjson.dumps(
        [
            state.balance_fen,
            state.region,
            int(state.armed),
            [
                [
                    p.event_id,
                    p.transaction_id,
                    VERDICTS.index(p.verdict),
                    p.expected_fen,
                    p.previous_event_id,
                    p.alert_threshold_fen,
                ]
                for p in state.recent
            ],
        ]
    )


def load(stored: bytes | None) -> AccountState | None:
    if not stored:
        return None
    balance, region, armed, recent = orjson.loads(stored)
    return AccountState(
        balance,
        region,
        bool(armed),
        tuple(
            Posting(event, transaction, VERDICTS[verdict], expected, previous, threshold)
            for event, transaction, verdict, expected, previous, threshold in recent
        ),
    )
