-- A row the broker can never take (too large, an invalid topic) is set aside with its reason;
-- later rows of the same key wait behind it, every other key keeps flowing.
alter table outbox add column quarantined_at timestamptz, add column quarantine_reason text;
create index outbox_quarantined on outbox (key, position) where quarantined_at is not null;
