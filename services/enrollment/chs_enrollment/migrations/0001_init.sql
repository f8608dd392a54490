-- The enrollment service's own data (参保登记). Money is integer fen (bigint).

create table persons (
    person_id            text primary key,
    -- Raw ID number: only this service holds it; null for a newborn until linked.
    id_number            text unique,
    name                 text not null,
    sex                  text not null check (sex in ('M', 'F')),
    birth_date           date not null,
    mobile               text,
    region_code          text not null,
    birth_certificate_no text unique,
    guardian_person_id   text references persons (person_id),
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    check (id_number is not null or birth_certificate_no is not null)
);

create sequence employer_no;

create table employers (
    employer_id  text primary key
                 default 'E' || lpad(nextval('employer_no')::text, 10, '0'),
    name         text not null,
    region_code  text not null,
    -- sha256 hex of the employer's API key; the key itself is shown once and never stored.
    api_key_hash text not null unique,
    created_at   timestamptz not null default now()
);

create table enrollments (
    enrollment_id         text primary key,
    person_id             text not null references persons (person_id),
    insutype              text not null check (insutype in ('310', '390')),
    pooling_region        text not null,
    employer_id           text references employers (employer_id),
    contribution_base_fen bigint check (contribution_base_fen > 0),
    start_date            date not null,
    end_date              date,
    end_reason            text,
    created_at            timestamptz not null default now(),
    check (end_date is null or end_date >= start_date),
    check ((end_date is null) = (end_reason is null)),
    check (insutype <> '310' or (employer_id is not null and contribution_base_fen is not null))
);
-- One open enrollment per person and insurance type.
create unique index enrollments_one_open on enrollments (person_id, insutype)
    where end_date is null;
create index enrollments_employer_open on enrollments (employer_id) where end_date is null;

create table contributions (
    payment_id        text primary key,
    enrollment_id     text not null references enrollments (enrollment_id),
    person_id         text not null references persons (person_id),
    period            text not null check (period ~ '^[0-9]{4}(0[1-9]|1[0-2])$'),
    amount_fen        bigint not null check (amount_fen > 0),
    employer_part_fen bigint not null check (employer_part_fen >= 0),
    personal_part_fen bigint not null check (personal_part_fen >= 0),
    paid_at           timestamptz not null,
    created_at        timestamptz not null default now(),
    check (employer_part_fen + personal_part_fen = amount_fen),
    unique (enrollment_id, period)
);
create index contributions_person on contributions (person_id);
