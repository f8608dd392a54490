-- The accounts service's own data (职工医保个人账户). Money is integer fen (bigint).

-- What the allocation rule and the refusals need to know of a person (from enrollment events).
create table persons (
    person_id  text primary key,
    birth_date date,
    resident   boolean not null default false
);

-- One personal account per employee. balance_fen is the sum of the account's postings, kept
-- here under the row lock (select ... for update) and never negative (the check is the last
-- guard).
create table accounts (
    account_id     text primary key,
    person_id      text not null unique,
    enrollment_id  text not null,
    pooling_region text not null,
    status         text not null default 'open' check (status in ('open', 'closed')),
    balance_fen    bigint not null default 0 check (balance_fen >= 0),
    opened_on      date not null,
    closed_reason  text,
    closed_on      date,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    check ((status = 'closed') = (closed_on is not null))
);

-- 家庭共济: who may spend from an account. One row per authorization; revoked rows stay.
create table family_members (
    account_id       text not null references accounts,
    member_person_id text not null,
    relation         text not null check (relation in ('spouse', 'child', 'parent', 'parent_in_law')),
    authorized_on    date not null,
    revoked_on       date,
    created_at       timestamptz not null default now()
);
create unique index family_members_active on family_members (account_id, member_person_id)
    where revoked_on is null;
create index family_members_member on family_members (member_person_id) where revoked_on is null;

-- One row per ledger transaction; its id is the idempotency key of the posting.
create table ledger_transactions (
    transaction_id    text primary key,
    account_id        text not null references accounts,
    kind              text not null
                      check (kind in ('credit', 'debit', 'transfer_out', 'transfer_in', 'withdrawal')),
    amount_fen        bigint not null check (amount_fen >= 0),
    balance_after_fen bigint not null check (balance_after_fen >= 0),
    counterpart       text not null,
    reference         text,
    spender_person_id text,
    request_hash      text,
    posted_at         timestamptz not null
);
create index ledger_transactions_account on ledger_transactions (account_id, posted_at);

-- Double entry: every transaction is two postings, the account's and its counterpart's, that
-- sum to zero (+ is money into ledger_account).
create table postings (
    transaction_id text not null references ledger_transactions,
    line           smallint not null check (line in (1, 2)),
    ledger_account text not null,
    amount_fen     bigint not null,
    primary key (transaction_id, line)
);
create index postings_ledger_account on postings (ledger_account);
