-- The remote-care filing read model (chs_events.read_models.filings), kept from
-- chs.remote-care.events: each filing's person, type, category, destination and the days it
-- covers. Created only in the databases of services that opt into it.
create table filing_view (
    filing_id          text primary key,
    person_id          text not null,
    filing_type        text not null,
    category           text not null,
    destination_region text not null,
    valid_from         date not null,
    valid_until        date,
    revoked_on         date,
    updated_at         timestamptz not null default now()
);
create index filing_view_person on filing_view (person_id);
