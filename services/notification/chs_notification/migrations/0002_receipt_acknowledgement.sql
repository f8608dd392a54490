-- A delivery receipt is handed out again until the dispatcher acknowledges it, which it does
-- only after applying it: a dispatcher killed in between loses no receipt.
alter table local_gateway_sms add column receipt_acknowledged_at timestamptz;
drop index local_gateway_sms_unreported;
create index local_gateway_sms_unacknowledged on local_gateway_sms (accepted_at)
    where receipt_acknowledged_at is null;
