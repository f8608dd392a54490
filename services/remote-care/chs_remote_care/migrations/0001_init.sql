-- The remote-care service's own data (异地就医备案).

-- The enrollment read model (enrollment_view) comes from chs_events.read_models.

create table filings (
    filing_id          text primary key,
    person_id          text not null,
    filing_type        text not null check (filing_type in ('long_term', 'temporary')),
    category           text not null,
    destination_region text not null,
    home_region        text not null,
    insutype           text not null,
    enrollment_id      text not null,
    valid_from         date not null,
    valid_until        date,
    filed_on           date not null,
    admission_date     date,
    discharge_date     date,
    status             text not null default 'active'
                       check (status in ('active', 'revoked', 'expired')),
    revoked_on         date,
    revoke_reason      text,
    filed_at           timestamptz not null default now(),
    ended_at           timestamptz,
    check (filing_type = 'temporary' or valid_until is null),
    check (filing_type = 'long_term' or valid_until is not null),
    check ((status = 'revoked') = (revoked_on is not null))
);
create index filings_person on filings (person_id);
-- One active long-term filing per person (the rule is checked under the person lock; this is
-- the backstop against a concurrent request).
create unique index filings_one_long_term on filings (person_id)
    where filing_type = 'long_term' and status = 'active';
-- What the expire worker scans.
create index filings_expiring on filings (valid_until)
    where filing_type = 'temporary' and status = 'active';
