-- The feeds service's own data: death records and traffic-accident cases from external sources,
-- and the batches they were uploaded in with their per-line reports.
-- No raw ID number is stored: a person is their person_id (the HMAC of the ID number, computed
-- at ingest), which is all deduplication needs; a report line shows the masked number only.

create table batches (
    batch_id       text primary key,
    kind           text not null check (kind in ('deaths', 'accidents')),
    format         text not null check (format in ('csv', 'jsonl')),
    uploaded_by    text not null,             -- the uploading caller (its token's subject)
    status         text not null check (status in ('receiving', 'completed', 'incomplete')),
    lines          integer not null default 0 check (lines >= 0),
    accepted       integer not null default 0 check (accepted >= 0),
    duplicates     integer not null default 0 check (duplicates >= 0),
    rejected       integer not null default 0 check (rejected >= 0),
    stopped_reason text,
    received_at    timestamptz not null default now(),
    completed_at   timestamptz,
    check ((status = 'incomplete') = (stopped_reason is not null))
);
create index batches_uploader on batches (uploaded_by, received_at);

create table batch_lines (
    batch_id  text not null references batches on delete cascade,
    line      integer not null check (line > 0),
    outcome   text not null check (outcome in ('accepted', 'duplicate', 'rejected')),
    reason    text,
    id_number text,                           -- masked: 3702**********1234
    record_id text,
    primary key (batch_id, line),
    check ((outcome = 'rejected') = (record_id is null))
);

-- One row per person and date of death; the current record of a person is the one not
-- superseded by a correction.
create table deaths (
    record_id     text primary key,           -- uuid5 of person_id and date_of_death
    person_id     text not null,
    date_of_death date not null,
    source        text not null check (source in ('civil_affairs', 'police', 'health')),
    region_code   text not null,
    superseded_by text,
    batch_id      text,
    recorded_at   timestamptz not null default now(),
    unique (person_id, date_of_death)
);
create unique index deaths_current on deaths (person_id) where superseded_by is null;

-- Every source that reported a death record (the first is deaths.source).
create table death_sources (
    record_id   text not null references deaths,
    source      text not null check (source in ('civil_affairs', 'police', 'health')),
    reported_at timestamptz not null default now(),
    primary key (record_id, source)
);

-- One row per case and injured person.
create table accident_cases (
    case_id       text not null,
    person_id     text not null,
    accident_date date not null,
    source        text not null check (source in ('traffic_police', 'insurer')),
    liable_party  text not null,
    region_code   text not null,
    batch_id      text,
    recorded_at   timestamptz not null default now(),
    primary key (case_id, person_id)
);
create index accident_cases_person on accident_cases (person_id);

create table accident_sources (
    case_id     text not null,
    person_id   text not null,
    source      text not null check (source in ('traffic_police', 'insurer')),
    reported_at timestamptz not null default now(),
    primary key (case_id, person_id, source),
    foreign key (case_id, person_id) references accident_cases
);
