-- 冲正: a reversed settlement takes back the allowance it granted without application. Not
-- yet paid, the allowance is cancelled; paid, it stays paid and a recovery item (追回) is
-- raised for the agency. Either way it grants the confinement no more.
alter table allowances drop constraint allowances_status_check;
alter table allowances add constraint allowances_status_check
    check (status in ('approved', 'paid', 'cancelled'));
alter table allowances add column settlement_reversed_at timestamptz;
alter table allowances add constraint allowances_cancelled_by_a_reversal
    check (status <> 'cancelled' or (source = 'auto' and settlement_reversed_at is not null));

-- Every reversed settlement read, whether it granted an allowance or not: the settlement and its
-- reversal may be read in either order (a settlement retried or redriven after its reversal),
-- and a settlement read after its reversal grants nothing (and says why in the log).
create table reversed_settlements (
    settlement_id text primary key,
    person_id     text not null,
    reason_code   text not null,
    reversed_at   timestamptz not null
);

-- What the agency is to recover of an allowance paid before its settlement was reversed: one
-- item per allowance, of the pooling region the mother was enrolled in on the day of the birth.
create table recoveries (
    recovery_id          text primary key,
    person_id            text not null,
    allowance_id         text not null unique references allowances (allowance_id),
    settlement_id        text not null,
    event_date           date not null,
    amount_fen           bigint not null check (amount_fen >= 0),
    payment_reference    text not null,
    reversal_reason_code text not null,
    region               text not null,
    status               text not null default 'open' check (status in ('open')),
    raised_at            timestamptz not null
);
create index recoveries_open on recoveries (region, raised_at) where status = 'open';
