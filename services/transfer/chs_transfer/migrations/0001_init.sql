-- The transfer service's own data (关系转移接续). Money is integer fen (bigint).

-- The enrollment read model (enrollment_view) comes from chs_events.read_models.

-- Read model of ContributionPaid: one row per payment.
create table contributions (
    payment_id        text primary key,
    enrollment_id     text not null,
    person_id         text not null,
    period            text not null,
    employer_part_fen bigint not null check (employer_part_fen >= 0),
    personal_part_fen bigint not null check (personal_part_fen >= 0)
);
create index contributions_enrollment on contributions (enrollment_id);

create table transfers (
    transfer_id         text primary key,
    person_id           text not null,
    enrollment_id       text not null,
    from_region         text not null,
    to_region           text not null,
    cross_province      boolean not null,
    status              text not null
                        check (status in ('requested', 'out_confirmed', 'completed', 'rejected')),
    contribution_months integer check (contribution_months >= 0),
    account_balance_fen bigint check (account_balance_fen >= 0),
    rejected_by         text check (rejected_by in ('out_region', 'in_region')),
    reason              text,
    requested_on        date not null,
    out_confirmed_on    date,
    completed_on        date,
    rejected_on         date,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    check (from_region <> to_region),
    check ((status = 'rejected') = (reason is not null))
);
-- At most one open transfer per person.
create unique index transfers_one_open on transfers (person_id)
    where status in ('requested', 'out_confirmed');
create index transfers_person on transfers (person_id, created_at);
