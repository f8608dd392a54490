-- The opt-out register: a person's push preference as it now is (a TD reply, or the app).
-- Opted out, the person gets no push nor broadcast; service messages (business results,
-- account notices) still go. No row: opted in. Published as PushPreferenceChanged
-- (chs.notices.preferences, compacted per person) when it changes.
create table push_preferences (
    person_id  text primary key,
    opted_out  boolean not null,
    via        text not null check (via in ('sms_reply', 'app')),
    changed_at timestamptz not null
);

-- The rules of a message's category (chs_notification.rules): a push or broadcast to a person
-- who opted out ends opted_out, one over the person's cap ends capped (neither is sent); one
-- in the quiet hours stays queued until not_before (the end of the quiet hours).
alter table messages drop constraint messages_status_check;
alter table messages add constraint messages_status_check check (status in
    ('queued', 'sent', 'delivered', 'failed', 'undeliverable', 'opted_out', 'capped'));
alter table messages add column not_before timestamptz;
