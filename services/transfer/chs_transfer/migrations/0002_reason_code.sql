-- A rejection's reason is a code of the closed list (chs_events.events.transfer), never a
-- caller's text: the SMS renders the code's text.
alter table transfers rename column reason to reason_code;
