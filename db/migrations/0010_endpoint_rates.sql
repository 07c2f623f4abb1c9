-- Per-endpoint rate limits (imap/rate-limit.ts): overrides of the provider's published limits, and the state the
-- syncs of every worker share to respect them.

-- {"download": {"messagesPerSecond": n|null, "bytesPerSecond": n|null, "bytesPerDay": n|null}, "upload": {...}}:
-- a figure, null for no limit, a key left out for the provider's default.
alter table endpoints add column rate_limits jsonb not null default '{}';

-- One bucket per endpoint and direction: when its message and byte rates are free again.
create table endpoint_rate_buckets (
  endpoint_id uuid not null references endpoints (id) on delete cascade,
  direction text not null check (direction in ('download', 'upload')),
  messages_free_at timestamptz not null default now(),
  bytes_free_at timestamptz not null default now(),
  primary key (endpoint_id, direction)
);

-- Bytes reserved per endpoint, direction, UTC day and mailbox (the daily budgets: the endpoint's is the day's sum,
-- a mailbox's its own row; no foreign key to mailboxes, so a removed mailbox's bytes still count that day).
create table endpoint_daily_usage (
  endpoint_id uuid not null references endpoints (id) on delete cascade,
  direction text not null check (direction in ('download', 'upload')),
  day date not null,
  mailbox_id bigint not null,
  bytes bigint not null default 0,
  primary key (endpoint_id, direction, day, mailbox_id)
);
