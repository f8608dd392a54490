-- Pooling-region moves made by completed relationship transfers (关系转移接续): one row per
-- transfer, so a transfer moves an enrollment once however often its completion arrives.
create table pooling_region_changes (
    transfer_id   text primary key,
    enrollment_id text not null references enrollments (enrollment_id),
    person_id     text not null references persons (person_id),
    from_region   text not null,
    to_region     text not null,
    changed_on    date not null,
    event_id      text not null,
    created_at    timestamptz not null default now()
);
create index pooling_region_changes_enrollment on pooling_region_changes (enrollment_id);
