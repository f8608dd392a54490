-- Parking (chs_events.parking): the events a consumer received before their prerequisite, kept
-- as consumed until it arrives. Their inbox row is written when they are parked.
create table parked_events (
    position         bigserial primary key,  -- the order of arrival
    consumer         text not null,
    event_id         uuid not null,
    event_type       text not null,
    record_key       text not null,          -- the record's key (person_id)
    awaiting         text,                   -- the prerequisite, '<kind>:<key>'; null: only
                                             -- behind the key's earlier parked events
    reason           text not null,
    topic            text not null,          -- where it was consumed, as the broker names it
    source_partition integer not null,
    source_offset    bigint not null,
    value            bytea not null,
    header_names     text[] not null,
    header_values    bytea[] not null,
    parked_at        timestamptz not null default now(),
    released_at      timestamptz,            -- its prerequisite arrived: to be applied
    checks           integer not null default 0,
    next_check_at    timestamptz not null,   -- tried again then, released or not
    unique (consumer, event_id)
);
create index parked_events_awaiting on parked_events (awaiting) where released_at is null;
create index parked_events_key on parked_events (consumer, record_key, position);
create index parked_events_released on parked_events (consumer, position)
    where released_at is not null;
create index parked_events_due on parked_events (consumer, next_check_at);
create index parked_events_age on parked_events (consumer, parked_at);
