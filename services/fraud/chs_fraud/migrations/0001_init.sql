-- The fraud service's own data: the signals raised by the fraud processor, as cases an auditor
-- of their region resolves once. Money is integer fen (bigint).

create table signals (
    signal_id        text primary key,           -- deterministic (uuid5): raised again, kept once
    person_id        text not null,
    kind             text not null
                     check (kind in ('benefit_after_death', 'third_party_liability',
                                     'near_duplicate_bill')),
    region           text not null check (region ~ '^[0-9]{6}$'),
    amount_fen       bigint not null check (amount_fen >= 0),
    -- [{"kind": "settlement", "reference": ..., "event_id": ..., "service_date": ..., ...}]
    benefits         jsonb not null,
    record_reference text not null,
    record_date      date not null,
    raised_event_id  text not null,
    status           text not null default 'open'
                     check (status in ('open', 'confirmed', 'dismissed')),
    recovered_fen    bigint check (recovered_fen >= 0 and recovered_fen <= amount_fen),
    reason           text,
    resolved_by      text,
    resolved_on      date,
    resolved_at      timestamptz,
    received_at      timestamptz not null default now(),
    check ((status = 'open') = (resolved_at is null)),
    check (status = 'open' or (recovered_fen is not null and reason is not null))
);
-- The auditors' list: a region's signals by status and kind, the largest amounts first.
create index signals_worklist on signals (region, status, kind, amount_fen desc, signal_id);
create index signals_person on signals (person_id);
