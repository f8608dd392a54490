-- The enrollment read model (chs_events.read_models.enrollments), kept from
-- chs.enrollment.events: a person's enrollments with their insurance type, current pooling
-- region, start and end. Created only in the databases of services that opt into it.
create table enrollment_view (
    enrollment_id  text primary key,
    person_id      text not null,
    insutype       text not null,
    pooling_region text not null,
    start_date     date not null,
    end_date       date,
    updated_at     timestamptz not null default now()
);
create index enrollment_view_person on enrollment_view (person_id);
