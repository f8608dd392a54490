-- The stays whose settlement this service knows of (group remote-care-settlements on
-- chs.reimbursement.events): a temporary filing is back-dated only while its stay is not
-- settled, as the server knows it, whatever the caller claims.

-- Every completed settlement read: who, the days of the stay (a visit: its one day) and where.
create table settled_stays (
    settlement_id      text primary key,
    person_id          text not null,
    admission_date     date not null,
    discharge_date     date check (discharge_date >= admission_date),
    institution_region text not null,
    settled_at         timestamptz not null
);
create index settled_stays_person on settled_stays (person_id);

-- Every reversed settlement read (冲正): its stay is not settled any more. Kept apart, so that
-- a settlement and its reversal may be read in either order (a settlement retried or redriven
-- after its reversal settles nothing).
create table reversed_settlements (
    settlement_id text primary key,
    person_id     text not null,
    reversed_at   timestamptz not null
);
