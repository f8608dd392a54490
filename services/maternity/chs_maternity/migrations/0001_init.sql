-- The maternity service's own data (生育待遇). Money is integer fen (bigint).

-- Each employee enrollment's employer and contribution base, from EnrollmentRegistered; the
-- dates and activity come from the shared enrollment_view (same enrollment id). The employer's
-- monthly average wage is the mean of its staff's bases on the day.
create table staff_bases (
    enrollment_id         text primary key,
    person_id             text not null,
    employer_id           text not null,
    contribution_base_fen bigint not null check (contribution_base_fen >= 0)
);
create index staff_bases_employer on staff_bases (employer_id);

create table applications (
    application_id    text primary key,
    person_id         text not null,
    enrollment_id     text not null,
    employer_id       text not null,
    kind              text not null check (kind in ('birth', 'miscarriage')),
    event_date        date not null,
    babies            integer not null check (babies >= 0),
    difficult_birth   boolean not null,
    gestational_weeks integer check (gestational_weeks between 1 and 45),
    reference         text not null,
    status            text not null default 'pending' check (status in ('pending', 'approved')),
    submitted_at      timestamptz not null,
    decided_at        timestamptz,
    decided_by        text,
    allowance_id      text,
    check (kind <> 'miscarriage' or gestational_weeks is not null),
    check ((status = 'approved') = (allowance_id is not null))
);
create index applications_person on applications (person_id, submitted_at);

create table allowances (
    allowance_id      text primary key,
    person_id         text not null,
    source            text not null check (source in ('auto', 'application')),
    settlement_id     text unique,
    application_id    text unique references applications (application_id),
    employer_id       text not null,
    kind              text not null check (kind in ('birth', 'miscarriage')),
    event_date        date not null,
    babies            integer not null,
    difficult_birth   boolean not null,
    gestational_weeks integer,
    leave_days        integer not null check (leave_days > 0),
    monthly_wage_fen  bigint not null check (monthly_wage_fen >= 0),
    daily_wage_fen    bigint not null check (daily_wage_fen >= 0),
    amount_fen        bigint not null check (amount_fen = daily_wage_fen * leave_days),
    status            text not null default 'approved' check (status in ('approved', 'paid')),
    approved_at       timestamptz not null,
    paid_on           date,
    payment_reference text,
    check ((source = 'auto') = (settlement_id is not null)),
    check ((source = 'application') = (application_id is not null)),
    check ((status = 'paid') = (paid_on is not null))
);
create index allowances_person on allowances (person_id, event_date);
