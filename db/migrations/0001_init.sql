-- Core schema: endpoints, batches, mailboxes (migration users), sync checkpoints, skipped items, audit log,
-- endpoint concurrency leases and API tokens. Secrets are stored only as AES-256-GCM ciphertext (bytea).

create table endpoints (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  type text not null default 'imap' check (type in ('imap')),
  provider text not null default 'generic' check (provider in ('generic', 'dovecot', 'gmail', 'm365')),
  host text not null,
  port integer not null check (port between 1 and 65535),
  security text not null check (security in ('none', 'starttls', 'tls')),
  accept_untrusted_certs boolean not null default false,
  auth_method text not null default 'plain' check (auth_method in ('plain', 'login', 'xoauth2')),
  -- admin (master) user that logs in on behalf of each mailbox; null when each mailbox has its own login
  admin_user text,
  admin_secret bytea,
  max_concurrent_migrations integer not null default 100 check (max_concurrent_migrations > 0),
  max_concurrent_incremental_syncs integer not null default 20 check (max_concurrent_incremental_syncs > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index endpoints_name_key on endpoints (lower(name));

create table batches (
  id uuid primary key,
  name text not null,
  workflow_id text not null unique,
  status text not null,
  source_endpoint_id uuid not null references endpoints (id),
  destination_endpoint_id uuid not null references endpoints (id),
  created_by text not null,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  initial_sync_at timestamptz,
  initial_sync_duration_ms bigint,
  last_synced_at timestamptz,
  start_after timestamptz,
  complete_after timestamptz,
  auto_start boolean not null default false,
  auto_complete boolean not null default false,
  bad_item_limit integer not null default 10 check (bad_item_limit >= 0),
  large_item_limit integer not null default 0 check (large_item_limit >= 0),
  large_item_max_bytes bigint not null default 157286400,
  folder_include text[] not null default '{}',
  folder_exclude text[] not null default '{}',
  delete_on_destination boolean not null default false,
  last_error text,
  updated_at timestamptz not null default now()
);
create unique index batches_name_key on batches (lower(name));

create table mailboxes (
  id bigserial primary key,
  batch_id uuid not null references batches (id) on delete cascade,
  email text not null,
  source_user text not null,
  source_secret bytea,
  destination_user text,
  destination_secret bytea,
  status text not null default 'Queued',
  folders_total integer not null default 0,
  folders_synced integer not null default 0,
  items_total bigint not null default 0,
  items_synced bigint not null default 0,
  items_skipped bigint not null default 0,
  bytes_synced bigint not null default 0,
  current_folder text,
  items_per_second real,
  started_at timestamptz,
  initial_sync_at timestamptz,
  initial_sync_duration_ms bigint,
  last_synced_at timestamptz,
  finalized_at timestamptz,
  last_error text,
  last_error_code text,
  updated_at timestamptz not null default now()
);
create unique index mailboxes_batch_email_key on mailboxes (batch_id, lower(email));
create index mailboxes_email_idx on mailboxes (lower(email));
create index mailboxes_batch_status_idx on mailboxes (batch_id, status, id);

-- One row per source folder of a mailbox: where the last pass stopped.
create table folder_checkpoints (
  mailbox_id bigint not null references mailboxes (id) on delete cascade,
  source_folder text not null,
  destination_folder text not null,
  uidvalidity bigint not null,
  last_uid bigint not null default 0,
  highest_modseq numeric,
  destination_uidvalidity bigint,
  updated_at timestamptz not null default now(),
  primary key (mailbox_id, source_folder)
);

-- Items left behind (too large, refused by the destination), for the mailbox's report.
create table skipped_items (
  id bigserial primary key,
  mailbox_id bigint not null references mailboxes (id) on delete cascade,
  folder text not null,
  source_uid bigint,
  internal_date timestamptz,
  subject text,
  size_bytes bigint,
  reason text not null,
  created_at timestamptz not null default now()
);
create index skipped_items_mailbox_idx on skipped_items (mailbox_id, id);

-- Every command given to a batch, accepted or rejected, with who gave it.
create table audit_log (
  id bigserial primary key,
  batch_id uuid,
  batch_name text,
  actor text not null,
  command text not null,
  outcome text not null check (outcome in ('accepted', 'rejected')),
  detail jsonb not null default '{}',
  at timestamptz not null default now()
);
create index audit_log_batch_idx on audit_log (batch_id, id);

-- Cross-batch concurrency: one live lease per mailbox sync running against an endpoint.
create table endpoint_leases (
  endpoint_id uuid not null references endpoints (id) on delete cascade,
  mailbox_id bigint not null references mailboxes (id) on delete cascade,
  kind text not null check (kind in ('migration', 'incremental')),
  expires_at timestamptz not null,
  primary key (endpoint_id, mailbox_id)
);

-- Progress over time, for the dashboard's chart.
create table batch_progress (
  batch_id uuid not null references batches (id) on delete cascade,
  at timestamptz not null default now(),
  synced integer not null,
  failed integer not null,
  finalized integer not null,
  items_synced bigint not null,
  primary key (batch_id, at)
);

create table api_tokens (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  owner text not null,
  role text not null check (role in ('admin', 'viewer')),
  token_hash bytea not null unique,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
