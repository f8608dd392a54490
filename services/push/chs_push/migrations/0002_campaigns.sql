-- Push campaigns: the campaign (drafted, published, running from its cursor, completed or
-- cancelled) and its targets, one row per person it requested a notice for (the notice's
-- deterministic id, and its latest status as notification announced it).
create table campaigns (
    campaign_id text primary key,
    template_id text not null,
    kind text not null check (kind in ('push', 'broadcast')),
    segment jsonb not null,                -- chs_push.rules.segments.Segment, narrowed
    params jsonb not null,                 -- the template's params the operator gave
    region text not null,                  -- GB/T 2260 code: the operator's or a part of it
    purpose text not null,                 -- kept for audit, never sent
    created_by text not null,              -- the operator's client id
    created_at timestamptz not null,
    send_at timestamptz,
    status text not null
        check (status in ('draft', 'published', 'running', 'completed', 'cancelled')),
    as_of date,                            -- the day the segment is matched for
    cursor text not null default '',       -- the last person id fanned out
    targeted integer not null default 0,
    published_at timestamptz,
    started_at timestamptz,
    completed_at timestamptz,
    cancelled_at timestamptz,
    cancelled_by text,
    updated_at timestamptz not null default now()
);
create index campaigns_region on campaigns (region text_pattern_ops, created_at);
create index campaigns_active on campaigns (status, send_at)
    where status in ('published', 'running');

create table campaign_targets (
    campaign_id text not null references campaigns,
    person_id text not null,
    notice_id text not null unique,
    status text,                           -- null: queued (no status announced yet)
    status_rank smallint not null default 0,
    status_at timestamptz,
    primary key (campaign_id, person_id)
);
