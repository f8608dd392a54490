-- The notification service's own database (chs_notification).

-- Contact directory, built from enrollment events (PersonRegistered, ContactChanged,
-- NewbornEnrolled). A newborn has no mobile of its own: its row links to its guardian, and a
-- message for it goes to the guardian's mobile until the child gets one (ContactChanged).
create table contacts (
    person_id          text primary key,
    name               text,          -- null when a ContactChanged arrived before the person
    mobile             text,          -- 11-digit national form; null for a newborn
    birth_date         date,
    guardian_person_id text,          -- newborns only
    updated_at         timestamptz not null default now()
);
create index contacts_guardian on contacts (guardian_person_id)
    where guardian_person_id is not null;

-- One row per notice: notice_id is unique, so a notice requested twice is one SMS.
-- status: queued → sent → delivered | failed; queued → failed (retries exhausted);
-- queued → undeliverable (no contact after the grace period, invalid number, refused).
create table messages (
    message_id          uuid primary key,           -- the gateway's idempotency key
    notice_id           text not null unique,
    person_id           text not null,              -- the recipient named by the notice
    template_id         text not null,
    category            text not null,
    priority            text not null default 'normal',
    params              jsonb not null,
    request_event_id    uuid not null,              -- the NoticeRequested that created it
    correlation_id      text,
    text                text,                       -- as rendered, set when dispatched
    sender              text,
    mobile_masked       text,
    recipient_person_id text,                       -- whose mobile: the person or a guardian
    status              text not null default 'queued'
        check (status in ('queued', 'sent', 'delivered', 'failed', 'undeliverable')),
    attempts            integer not null default 0, -- sends made
    next_attempt_at     timestamptz not null default now(),
    last_error          text,
    provider_message_id text,
    early_receipt       jsonb,  -- a receipt that overtook the commit of its send; applied then
    created_at          timestamptz not null default now(),
    sent_at             timestamptz,
    delivered_at        timestamptz,
    final_at            timestamptz
);
create index messages_due on messages (next_attempt_at) where status = 'queued';
create index messages_person on messages (person_id, created_at desc);
create index messages_created on messages (created_at, template_id);

-- The local gateway's own record. It stands in for an SMS provider's side and is not the
-- service's state: a real provider keeps this on its own systems. message_id is the
-- idempotency key: a resend with the same id is the same SMS, never a second one.
-- receipt_status is null until receipts() has reported the message's delivery receipt.
create table local_gateway_sms (
    message_id          uuid primary key,
    provider_message_id text not null unique,
    sender              text not null,
    mobile              text not null,
    text                text not null,
    accepted_at         timestamptz not null default now(),
    receipt_status      text check (receipt_status in ('delivered', 'failed')),
    receipt_at          timestamptz
);
create index local_gateway_sms_unreported on local_gateway_sms (accepted_at)
    where receipt_status is null;
