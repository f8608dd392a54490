"""What the processor keeps per account, and its bytes in a faust table (no I/O).

One table, ``accounts``, keyed by ``account_id`` and written to the partition of the account's
events (its holder's ``person_id``), so co-partitioned with ``chs.account.events``:

- ``balance_fen``: the last balance after the ledger stated (None until a baseline: the
  account's opening, balance 0, or else the first posting seen);
- ``region``: the pooling region (opening, transfers), for the region's policy;
- ``armed``: whether the low-balance alert may be sent (off once sent; on again when the
  balance is at or above the threshold);
- ``burst``: the small debits told together when their window ends (where coalescing is on);
- ``recent``: the last postings applied (``KEPT_POSTINGS``), newest last, each with what it
  caused: a posting redelivered (its event id among them) causes the same again and changes
  nothing, and a transaction id among them under another event id is a duplicate.

Beside the accounts, one key per partition (``pending_key``): the accounts of the partition
with a burst pending (``Pending``), and what the last ticks there flushed, so a tick delivered
again tells the same again.

The bytes are compact JSON arrays (positional).
"""

from dataclasses import dataclass, replace
from typing import Any, Literal

import orjson

# How many postings of an account are kept: the redeliveries recognized and the duplicates found
# are among these (a redelivery is at most a few commit intervals old).
KEPT_POSTINGS = 100
KEPT_TICKS = 20  # per partition: the ticks recognized when delivered again

Verdict = Literal["told", "gap", "duplicate"]
VERDICTS: tuple[Verdict, ...] = ("told", "gap", "duplicate")


@dataclass(frozen=True)
class Burst:
    """Small debits of one account told together: their count, total and the balance after the
    last; the window ends ``ends_at`` (epoch seconds), ``window`` after the first."""

    person_id: str
    first_event_id: str
    started_at: int
    ends_at: int
    count: int
    total_fen: int
    balance_fen: int

    def joined(self, amount_fen: int, balance_fen: int) -> "Burst":
        return replace(
            self,
            count=self.count + 1,
            total_fen=self.total_fen + amount_fen,
            balance_fen=balance_fen,
        )


@dataclass(frozen=True)
class Posting:
    """A posting applied, and what it caused."""

    event_id: str
    transaction_id: str
    verdict: Verdict
    expected_fen: int | None = None  # a gap or duplicate: the balance after it should state
    previous_event_id: str | None = None  # a gap or duplicate: the posting checked against
    alert_threshold_fen: int | None = None  # told, and the low-balance alert went with it
    coalesced: bool = False  # told later, in its burst's notice
    flushed: Burst | None = None  # the burst it closed, told before its own notices


@dataclass(frozen=True)
class AccountState:
    balance_fen: int | None = None
    region: str | None = None
    armed: bool = False
    recent: tuple[Posting, ...] = ()
    burst: Burst | None = None

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


@dataclass(frozen=True)
class Pending:
    """A partition's accounts with a burst pending, and the bursts its last ticks flushed."""

    accounts: tuple[str, ...] = ()
    ticks: tuple[tuple[str, tuple[Burst, ...]], ...] = ()

    def flushed_by(self, tick_id: str) -> tuple[Burst, ...] | None:
        return next((bursts for tick, bursts in self.ticks if tick == tick_id), None)


def pending_key(partition: int) -> bytes:
    """The key of a partition's ``Pending`` (no account id begins with a NUL)."""
    return b"\x00pending:%d" % partition


def _burst_out(burst: Burst | None) -> list[Any] | None:
    if burst is None:
        return None
    return [
        burst.person_id,
        burst.first_event_id,
        burst.started_at,
        burst.ends_at,
        burst.count,
        burst.total_fen,
        burst.balance_fen,
    ]


def _burst_in(stored: list[Any] | None) -> Burst | None:
    return None if stored is None else Burst(*stored)


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
                    int(p.coalesced),
                    _burst_out(p.flushed),
                ]
                for p in state.recent
            ],
            _burst_out(state.burst),
        ]
    )


def load(stored: bytes | None) -> AccountState | None:
    if not stored:
        return None
    balance, region, armed, recent, burst = orjson.loads(stored)
    return AccountState(
        balance, region, bool(armed), tuple(_posting_in(p) for p in recent), _burst_in(burst)
    )


def _posting_in(stored: list[Any]) -> Posting:
    event, transaction, verdict, expected, previous, threshold, coalesced, flushed = stored
    return Posting(
        event,
        transaction,
        VERDICTS[verdict],
        expected,
        previous,
        threshold,
        bool(coalesced),
        _burst_in(flushed),
    )


def dump_pending(pending: Pending) -> bytes:
    return orjson.dumps(
        [
            list(pending.accounts),
            [[tick, [_burst_out(b) for b in bursts]] for tick, bursts in pending.ticks],
        ]
    )


def load_pending(stored: bytes | None) -> Pending:
    if not stored:
        return Pending()
    accounts, ticks = orjson.loads(stored)
    return Pending(
        tuple(accounts),
        tuple(
            (tick, tuple(b for stored in bursts if (b := _burst_in(stored)) is not None))
            for tick, bursts in ticks
        ),
    )
