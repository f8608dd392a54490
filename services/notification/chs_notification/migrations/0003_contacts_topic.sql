-- The directory is now kept from chs.enrollment.contacts (PersonContact: the whole contact).
-- A message may go to a number the directory chose rather than the person's current mobile:
-- a mobile change's one-time code to the requested number, its notice to the previous one.
alter table messages add column to_mobile text;
