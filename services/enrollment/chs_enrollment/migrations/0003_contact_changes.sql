-- A requested mobile change, until its one-time code is confirmed (PUT then POST
-- /persons/{person_id}/contact/confirmation). The code is kept only as a keyed hash
-- (HMAC-SHA256 of person, mobile and code); a new request replaces the row.
create table contact_changes (
    person_id  text primary key references persons (person_id),
    mobile     text not null,
    code_hash  text not null,
    expires_at timestamptz not null,
    attempts   integer not null default 0  -- wrong codes so far
);
