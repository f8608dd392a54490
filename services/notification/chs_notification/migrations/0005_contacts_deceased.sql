-- The date of death of a person whose death is verified (PersonContact deceased_on): the
-- number then gets only the templates of CHS_STILL_SENT_AFTER_DEATH; every other message to it
-- ends undeliverable with the reason.
alter table contacts add column deceased_on date;
