-- The chronic-disease service's own data (门诊慢特病). Money is integer fen (bigint); ratios are
-- integer per-mille.

create table applications (
    application_id      text primary key,
    person_id           text not null,
    institution_code    text not null,
    institution_name    text not null,
    doctor_id           text not null,
    doctor_name         text not null,
    discharge_date      date not null,
    diagnosis_codes     text[] not null check (cardinality(diagnosis_codes) > 0),
    -- [{"kind": "lab_report", "reference": "..."}]: references to documents the hospital keeps
    evidence            jsonb not null default '[]',
    requested_condition text,
    condition_code      text,
    status              text not null check (status in ('certified', 'rejected', 'pending_review')),
    rule                text,
    reason              text,
    submitted_at        timestamptz not null default now(),
    decided_at          timestamptz,
    decided_by          text,
    certification_id    text,
    check ((status = 'pending_review') = (decided_at is null)),
    check (status <> 'certified' or certification_id is not null)
);
create index applications_person on applications (person_id, submitted_at);
create index applications_review_queue on applications (submitted_at)
    where status = 'pending_review';

create table certifications (
    certification_id   text primary key,
    person_id          text not null,
    condition_code     text not null,
    condition_name     text not null,
    source             text not null check (source in ('application', 'review', 'auto')),
    application_id     text references applications (application_id),
    settlement_id      text,
    diagnosis_codes    text[] not null,
    institution_code   text not null,
    institution_name   text not null,
    valid_from         date not null,
    valid_until        date not null,
    annual_cap_fen     bigint not null check (annual_cap_fen > 0),
    pay_ratio_permille integer not null check (pay_ratio_permille between 1 and 1000),
    status             text not null default 'active'
                       check (status in ('active', 'expired', 'revoked')),
    certified_at       timestamptz not null default now(),
    ended_on           date,
    end_reason         text,
    check (valid_until >= valid_from),
    check ((status = 'active') = (ended_on is null)),
    check (source <> 'auto' or settlement_id is not null),
    check (source = 'auto' or application_id is not null)
);
-- One active certification per person and condition: an event delivered twice, two settlements
-- racing, or an application beside an auto-certification can never certify it twice.
create unique index certifications_one_active on certifications (person_id, condition_code)
    where status = 'active';
create index certifications_person on certifications (person_id, certified_at);
create index certifications_due on certifications (valid_until) where status = 'active';
