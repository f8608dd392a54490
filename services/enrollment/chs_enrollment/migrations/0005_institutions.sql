-- The designated institutions (定点医疗机构) the admin registers, beside those of
-- chs_events/data/institutions.json; each one is published as InstitutionRegistered on the
-- compacted topic chs.registry.institutions (a change of name or level as InstitutionChanged),
-- from which every API that resolves institutions learns it.
create table institutions (
    code          text primary key check (code ~ '^H[0-9]{11}$'),
    name          text not null check (name <> ''),
    level         smallint not null check (level between 1 and 3),
    region        text not null check (region ~ '^[0-9]{6}$'),
    registered_at timestamptz not null default now(),
    changed_at    timestamptz
);
