"""An account event applied to its account's state: continuity, duplicates, the low-balance
alert. Pure: no Kafka, no I/O.

- **Continuity.** A posting's balance after must be the previous balance after plus its amount
  (a credit, a transfer in), minus it (a debit, a transfer out, a withdrawal), or unchanged (a
  transfer within the province, ``balance_after_fen`` = ``amount_fen`` = the balance). One that
  is not is a ``gap``; a posting of a transaction already applied under another event id is a
  ``duplicate``. Either raises ``DataQualitySignalRaised`` (``account_continuity``) and no
  notice: nothing inconsistent is told to the person. After a gap the ledger's stated balance is
  the new baseline (only the ledger states a balance), so one gap raises one signal; a duplicate
  changes nothing.
- **Baseline.** The account's opening (balance 0) or, without it, the first posting seen.
- **Low balance.** A debit told that takes the balance from at or above the region's threshold
  to below it asks for ``account.low_balance`` too, once: the alert is armed again when the
  balance is back at or above the threshold.
- **Coalescing** (where the policy turns it on for the account's region): a small debit told
  (at most ``small_debit_fen``, no alert with it) joins the account's burst instead of asking
  for ``account.debited``; the burst is told as one ``account.debits_coalesced`` (the count,
  the total, the balance after the last) when its window ends: by the account's next posting
  (a small debit past the window starts a new burst; any other posting but a duplicate closes it
  first, so nothing is told out of order), or by a tick of the processor's clock in the
  account's partition (``ticked``) when no posting comes. Its notice id is of the burst's first
  debit, whichever closes it.
- **Redelivery.** The same event (its event id among the recent postings, a tick's among the
  partition's last ticks) causes what it caused the first time (the same notice and signal ids)
  and changes nothing.
"""

from dataclasses import dataclass, replace

from chs_account_notices.rules.notices import coalesced, low_balance, notices_for, requested
from chs_account_notices.rules.policy import Policy
from chs_account_notices.rules.state import (
    KEPT_POSTINGS,
    KEPT_TICKS,
    AccountState,
    Burst,
    Pending,
    Posting,
)
from chs_events.envelope import Envelope
from chs_events.events.account import (
    AccountCredited,
    AccountDebited,
    AccountMovement,
    AccountOpened,
    AccountTransferredIn,
    AccountTransferredOut,
    AccountTransferredWithin,
    AccountWithdrawn,
)
from chs_events.events.base import Event
from chs_events.events.quality import DataQualitySignalRaised, quality_signal_id

KIND = "account_continuity"
INTO = (AccountCredited, AccountTransferredIn)
OUT = (AccountDebited, AccountTransferredOut, AccountWithdrawn)


@dataclass(frozen=True)
class Applied:
    """The account's new state (None: unchanged) and what the event caused."""

    state: AccountState | None
    caused: list[Event]


def expected_after(balance_fen: int, event: AccountMovement) -> int:
    """The balance after ``event`` that follows from the balance before it."""
    if isinstance(event, INTO):
        return balance_fen + event.amount_fen
    if isinstance(event, OUT):
        return balance_fen - event.amount_fen
    if isinstance(event, AccountTransferredWithin):
        return balance_fen  # the same account, re-homed: the balance unchanged
    raise TypeError(f"not a posting: {type(event).__name__}")


def _region_after(event: Event, region: str | None) -> str | None:
    if isinstance(event, AccountOpened):
        return event.pooling_region
    if isinstance(event, AccountTransferredIn | AccountTransferredWithin):
        return event.to_region
    return region


def apply(source: Envelope, state: AccountState | None, policy: Policy) -> Applied:
    """``source`` (an account event) applied to its account's ``state`` (None: none yet)."""
    event = source.event
    if isinstance(event, AccountOpened):
        return _opened(event, state, policy)
    if not isinstance(event, AccountMovement):
        return Applied(None, list(notices_for(source)))  # family authorizations: no state
    current = state or AccountState()
    if (again := current.applied(source.id)) is not None:
        return Applied(None, _caused(source, again))
    posting, new = _posted(source, event, current, policy)
    kept = (*new.recent, posting)[-KEPT_POSTINGS:]
    return Applied(replace(new, recent=kept), _caused(source, posting))


def _opened(event: AccountOpened, state: AccountState | None, policy: Policy) -> Applied:
    if state is not None and state.balance_fen is not None:
        return Applied(None, [])  # a baseline already (a redelivery)
    threshold = policy.threshold_fen(event.pooling_region)
    opened = replace(
        state or AccountState(), balance_fen=0, region=event.pooling_region, armed=threshold <= 0
    )
    return Applied(opened, [])


def _posted(
    source: Envelope, event: AccountMovement, state: AccountState, policy: Policy
) -> tuple[Posting, AccountState]:
    found = event.balance_after_fen
    region = _region_after(event, state.region)
    threshold = policy.threshold_fen(region)
    before = state.balance_fen
    if before is None:  # the first posting seen: the baseline
        return Posting(source.id, event.transaction_id, "told"), replace(
            state, balance_fen=found, region=region, armed=found >= threshold
        )
    if (first := state.first_of(event.transaction_id)) is not None:
        duplicate = Posting(source.id, event.transaction_id, "duplicate", before, first.event_id)
        return duplicate, state
    expected = expected_after(before, event)
    moved = replace(state, balance_fen=found, region=region, burst=None)
    if expected != found:
        previous = state.last.event_id if state.last is not None else None
        gap = Posting(
            source.id, event.transaction_id, "gap", expected, previous, flushed=state.burst
        )
        return gap, replace(moved, armed=state.armed or found >= threshold)
    alerted = isinstance(event, AccountDebited) and state.armed and before >= threshold > found
    joins = (
        isinstance(event, AccountDebited)
        and not alerted
        and policy.coalescing.joins(region, event.amount_fen)
    )
    burst, flushed = _coalesced(source, event, state.burst, joins, policy)
    told = Posting(
        source.id,
        event.transaction_id,
        "told",
        alert_threshold_fen=threshold if alerted else None,
        coalesced=joins,
        flushed=flushed,
    )
    armed = found >= threshold or (state.armed and not alerted)
    return told, replace(moved, armed=armed, burst=burst)


def _coalesced(
    source: Envelope, event: AccountMovement, burst: Burst | None, joins: bool, policy: Policy
) -> tuple[Burst | None, Burst | None]:
    """The account's burst after a posting told, and the burst it closed (to be told first)."""
    at = int(event.posted_at.timestamp())
    if burst is not None and joins and at < burst.ends_at:
        return burst.joined(event.amount_fen, event.balance_after_fen), None
    if not joins:
        return None, burst
    window = policy.coalescing.window_seconds
    started = Burst(
        event.person_id,
        source.id,
        at,
        at + window,
        1,
        event.amount_fen,
        event.balance_after_fen,
    )
    return started, burst


def _caused(source: Envelope, posting: Posting) -> list[Event]:
    """What a posting applied causes (the same again when it is redelivered): the burst it
    closed first, then its own notices or its signal."""
    event = source.event
    assert isinstance(event, AccountMovement)
    closed: list[Event] = [] if posting.flushed is None else [coalesced(posting.flushed)]
    if posting.verdict != "told":
        assert posting.expected_fen is not None
        signal = DataQualitySignalRaised(
            person_id=event.person_id,
            signal_id=quality_signal_id(KIND, source.id),
            kind=KIND,
            problem=posting.verdict,
            account_id=event.account_id,
            transaction_id=event.transaction_id,
            event_id=source.id,
            event_type=source.type,
            previous_event_id=posting.previous_event_id,
            expected_balance_fen=posting.expected_fen,
            found_balance_fen=event.balance_after_fen,
        )
        return [*closed, signal]
    notices: list[Event] = closed + ([] if posting.coalesced else list(notices_for(source)))
    if posting.alert_threshold_fen is not None and isinstance(event, AccountDebited):
        notices += requested(source, [low_balance(event, posting.alert_threshold_fen)])
    return notices


def pending_after(pending: Pending, account_id: str, after: AccountState) -> Pending | None:
    """The partition's pending accounts once ``account_id``'s state is ``after`` (None:
    unchanged)."""
    has = after.burst is not None
    listed = account_id in pending.accounts
    if has and not listed:
        return replace(pending, accounts=(*pending.accounts, account_id))
    if not has and listed:
        return replace(pending, accounts=tuple(a for a in pending.accounts if a != account_id))
    return None


@dataclass(frozen=True)
class Ticked:
    """What a tick closed: the partition's pending accounts (None: unchanged), the accounts'
    new states, and the bursts' notices."""

    pending: Pending | None
    states: dict[str, AccountState]
    caused: list[Event]


def ticked(
    source: Envelope, at: int, pending: Pending, states: dict[str, AccountState | None]
) -> Ticked:
    """A tick at ``at`` (epoch seconds) in a partition: the bursts of its pending accounts
    (``states``, by account id) whose window has ended are told and closed. A tick delivered
    again tells what it told the first time and changes nothing."""
    if (again := pending.flushed_by(source.id)) is not None:
        return Ticked(None, {}, [coalesced(burst) for burst in again])
    closed: dict[str, AccountState] = {}
    flushed: list[Burst] = []
    still: list[str] = []
    for account_id in pending.accounts:
        state = states.get(account_id)
        if state is None or state.burst is None:
            continue  # closed by a posting since: no longer pending
        if state.burst.ends_at > at:
            still.append(account_id)
            continue
        flushed.append(state.burst)
        closed[account_id] = replace(state, burst=None)
    if not flushed and len(still) == len(pending.accounts):
        return Ticked(None, {}, [])
    ticks = pending.ticks
    if flushed:
        ticks = (*ticks, (source.id, tuple(flushed)))[-KEPT_TICKS:]
    return Ticked(Pending(tuple(still), ticks), closed, [coalesced(b) for b in flushed])
