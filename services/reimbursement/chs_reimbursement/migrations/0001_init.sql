-- The reimbursement service's own data (手工报销 and 一站式结算). Money is integer fen (bigint).

-- The assisted groups (医疗救助对象) a person is in, from the civil-affairs roll.
create table assisted_groups (
    person_id  text not null,
    group_code text not null check (group_code in ('destitute', 'dibao', 'dibao_marginal',
                                                   'poverty_relapse', 'monitored',
                                                   'illness_poverty')),
    since      timestamptz not null default now(),
    primary key (person_id, group_code)
);

-- A person's year-to-date totals, read and replaced by every settlement and approved claim.
create table accumulators (
    person_id                      text not null,
    year                           integer not null,
    basic_inpatient_paid_fen       bigint not null default 0 check (basic_inpatient_paid_fen >= 0),
    basic_outpatient_paid_fen      bigint not null default 0 check (basic_outpatient_paid_fen >= 0),
    inpatient_deductibles_paid_fen bigint not null default 0,
    outpatient_deductible_paid_fen bigint not null default 0,
    admissions                     integer not null default 0,
    critical_illness_counted_fen   bigint not null default 0,
    critical_illness_paid_fen      bigint not null default 0,
    assistance_deductible_paid_fen bigint not null default 0,
    assistance_paid_fen            bigint not null default 0,
    updated_at                     timestamptz not null default now(),
    primary key (person_id, year)
);

-- One row per invoice reimbursed, by a settlement or a claim: an invoice is never reimbursed
-- twice. A reversed settlement or a rejected claim frees it.
create table invoices (
    invoice_no    text primary key,
    settlement_id text unique,
    claim_id      text unique,
    check ((settlement_id is null) <> (claim_id is null))
);

-- The columns of a bill and of its split, shared by settlements and claims.
create table settlements (
    settlement_id          text primary key,
    person_id              text not null,
    enrollment_id          text not null,
    insutype               text not null check (insutype in ('310', '390')),
    pooling_region         text not null,
    filing                 text not null check (filing in ('none', 'long_term', 'temporary')),
    remote_care_filing_id  text,
    basis                  text not null,
    institution_code       text not null,
    institution_name       text not null,
    institution_level      integer not null check (institution_level between 1 and 3),
    institution_region     text not null,
    visit_type             text not null check (visit_type in ('outpatient', 'inpatient')),
    admission_date         date not null,
    discharge_date         date,
    diagnoses              text[] not null,
    eligible_fen           bigint not null check (eligible_fen >= 0),
    ineligible_fen         bigint not null check (ineligible_fen >= 0),
    invoice_no             text not null,
    emergency              boolean not null,
    maternity              boolean not null,
    total_fen              bigint not null,
    pooled_fund_fen        bigint not null check (pooled_fund_fen >= 0),
    critical_illness_fen   bigint not null check (critical_illness_fen >= 0),
    medical_assistance_fen bigint not null check (medical_assistance_fen >= 0),
    personal_cash_fen      bigint not null check (personal_cash_fen >= 0),
    lines                  jsonb not null,
    accumulators_before    jsonb not null,
    accumulators_after     jsonb not null,
    status                 text not null check (status in ('completed', 'reversed')),
    settled_at             timestamptz not null,
    reversed_at            timestamptz,
    reversal_reason        text,
    check (total_fen = eligible_fen + ineligible_fen),
    check (total_fen = pooled_fund_fen + critical_illness_fen + medical_assistance_fen
                       + personal_cash_fen),
    check ((status = 'reversed') = (reversed_at is not null))
);
create index settlements_person on settlements (person_id, settled_at);

create table claims (
    claim_id               text primary key,
    person_id              text not null,
    institution_code       text not null,
    institution_name       text not null,
    institution_level      integer not null check (institution_level between 1 and 3),
    institution_region     text not null,
    visit_type             text not null check (visit_type in ('outpatient', 'inpatient')),
    admission_date         date not null,
    discharge_date         date,
    diagnoses              text[] not null,
    eligible_fen           bigint not null check (eligible_fen >= 0),
    ineligible_fen         bigint not null check (ineligible_fen >= 0),
    invoice_no             text not null,
    emergency              boolean not null,
    submitted_on           date not null,
    submitted_at           timestamptz not null,
    status                 text not null check (status in ('approved', 'rejected', 'paid')),
    decided_at             timestamptz not null,
    enrollment_id          text,
    insutype               text,
    pooling_region         text,
    filing                 text,
    remote_care_filing_id  text,
    basis                  text,
    total_fen              bigint,
    pooled_fund_fen        bigint,
    critical_illness_fen   bigint,
    medical_assistance_fen bigint,
    personal_cash_fen      bigint,
    lines                  jsonb,
    accumulators_before    jsonb,
    accumulators_after     jsonb,
    rule                   text,
    reason                 text,
    paid_on                date,
    payment_reference      text,
    check ((status = 'rejected') = (rule is not null)),
    check ((status = 'rejected') = (pooled_fund_fen is null)),
    check ((status = 'paid') = (paid_on is not null))
);
create index claims_person on claims (person_id, submitted_at);
create index claims_invoice on claims (invoice_no);
