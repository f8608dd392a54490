-- When each one-time code of a mobile change was requested: a person gets at most
-- domain.CONTACT_CODES_PER_HOUR codes an hour (each one is an SMS to the number the caller named).
create table contact_code_requests (
    person_id    text not null references persons (person_id),
    requested_at timestamptz not null
);
create index contact_code_requests_person on contact_code_requests (person_id, requested_at);
