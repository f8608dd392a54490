-- 冲正: a reversed settlement takes back the certification without application it granted.
-- The settlements a certification rests on: the one that granted it without application, and
-- each later one that named its condition while it was active (and so granted nothing). A
-- certification without application is revoked once every settlement it rests on is reversed.
create table certification_settlements (
    certification_id text not null references certifications (certification_id),
    settlement_id    text not null,
    primary key (certification_id, settlement_id)
);
create index certification_settlements_settlement on certification_settlements (settlement_id);
insert into certification_settlements (certification_id, settlement_id)
    select certification_id, settlement_id from certifications where settlement_id is not null;

-- Every reversed settlement read, whether it certified anything or not: the settlement and its
-- reversal may be read in either order (a settlement retried or redriven after its reversal),
-- and one read after its reversal grants nothing.
create table reversed_settlements (
    settlement_id text primary key,
    person_id     text not null,
    reversed_at   timestamptz not null
);
