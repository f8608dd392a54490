-- Verified deaths (生存认证) from chs.feeds.deaths, one row per person: the date as last
-- recorded or corrected. A death of a person this service does not know is kept as well
-- (no reference to persons): a later registration of that person is recorded deceased, and no
-- enrollment of a deceased person is accepted.
create table deaths (
    person_id     text primary key,
    date_of_death date not null,
    record_id     text not null,   -- the feed's record of that date
    source        text not null,   -- civil_affairs, police, health
    region_code   text not null,   -- where the death was registered
    event_id      text not null,   -- the feed event that set the date
    recorded_at   timestamptz not null default now(),
    corrected_at  timestamptz
);

-- The person's date of death, as the person's contact (PersonContact) carries it.
alter table persons add column deceased_on date;
