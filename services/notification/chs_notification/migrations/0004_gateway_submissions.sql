-- Every submit call the local gateway takes, a resend of the same message included: what a
-- carrier would bill, and what shows a message submitted twice.
alter table local_gateway_sms add column submissions integer not null default 1;
