-- Transactional outbox: rows written in the same transaction as the change they announce.
create table outbox (
    position     bigserial primary key,
    event_id     uuid not null unique,
    topic        text not null,
    key          text not null,
    headers      jsonb not null,
    payload      bytea not null,
    created_at   timestamptz not null default now(),
    published_at timestamptz
);
create index outbox_pending on outbox (position) where published_at is null;

-- Inbox: one row per (consumer, event) whose effect was committed; makes consumers idempotent.
create table inbox (
    consumer     text not null,
    event_id     uuid not null,
    event_type   text not null,
    processed_at timestamptz not null default now(),
    primary key (consumer, event_id)
);
