-- The region an application or certification belongs to, for agency staff to be served only
-- their own (chs_events.policy): this service keeps no enrollments, so it is the region of the
-- institution that applied (its token's region claim), or, for an auto-certification, the
-- settling institution's region. Rows from before take the region of their institution code
-- (H + the GB/T 2260 region + a serial number).
alter table applications add column region text;
alter table certifications add column region text;
update applications set region = substring(institution_code from 2 for 6)
    where institution_code ~ '^H[0-9]{11}$';
update certifications set region = substring(institution_code from 2 for 6)
    where institution_code ~ '^H[0-9]{11}$';
create index applications_region_queue on applications (region, submitted_at)
    where status = 'pending_review';
