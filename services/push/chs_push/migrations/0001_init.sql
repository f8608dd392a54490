-- The push profiles' projection: one row per person, written by the push processor from its
-- faust table (the profile as the segment criteria read it, and the whole profile), a batch of
-- rows per statement; a row is replaced only by one of a revision not older than its own.
-- Preview is one count over it; fan-out, a keyset scan in person_id order.
create table profiles (
    person_id text primary key,
    revision bigint not null,
    region text,                           -- pooling region of the newest open enrollment
    insutypes text[] not null,             -- of the open enrollments (390 brings 392)
    enrolled boolean not null,
    alive boolean not null,
    opted_out boolean not null,
    sex text,
    birth_date date,
    employer_id text,
    conditions text[] not null,            -- condition codes certified, in force
    filing_categories text[] not null,     -- of the active remote-care filings
    maternity_date date,                   -- the newest birth with an allowance
    assisted_groups text[] not null,
    profile jsonb not null,                -- chs_push.rules.profile.dump
    updated_at timestamptz not null default now()
);

-- Every segment is of the living, not opted out: the indexes hold those rows only.
create index profiles_region on profiles (region text_pattern_ops)
    where alive and not opted_out;
create index profiles_birth_date on profiles (birth_date) where alive and not opted_out;
create index profiles_maternity_date on profiles (maternity_date)
    where alive and not opted_out and maternity_date is not null;
create index profiles_conditions on profiles using gin (conditions)
    where alive and not opted_out;
create index profiles_filing_categories on profiles using gin (filing_categories)
    where alive and not opted_out;
create index profiles_assisted_groups on profiles using gin (assisted_groups)
    where alive and not opted_out;
create index profiles_employer on profiles (employer_id)
    where alive and not opted_out and employer_id is not null;
