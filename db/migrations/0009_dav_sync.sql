-- Calendars and contacts (CalDAV / CardDAV) beside the mail: the endpoints' DAV services, the batches' skip
-- settings, the engine's checkpoints and per-kind statistics.

-- An endpoint's CalDAV and CardDAV services: a host (discovery finds the home) or a full URL. Null: none.
alter table endpoints
  add column caldav_url text,
  add column carddav_url text;

-- Exchange's Google batches: leave calendars (events), contacts or tasks out. Null on a mailbox: the batch's value.
alter table batches
  add column skip_calendar boolean not null default false,
  add column skip_contacts boolean not null default false,
  add column skip_tasks boolean not null default false;
alter table mailboxes
  add column skip_calendar boolean,
  add column skip_contacts boolean,
  add column skip_tasks boolean,
  -- Copied over the whole mailbox (all passes): events, tasks and journals; contacts and groups.
  add column calendar_items_synced bigint not null default 0,
  add column contacts_synced bigint not null default 0;

-- What a skipped item was: a message, or a refused calendar item or contact.
alter table skipped_items
  add column item_kind text not null default 'mail' check (item_kind in ('mail', 'calendar', 'contact'));

-- One row per source calendar or address book of a mailbox: where it is copied to and where its last complete
-- pass ended (the RFC 6578 sync token, or the ctag for servers without sync-collection).
create table dav_collections (
  mailbox_id bigint not null references mailboxes (id) on delete cascade,
  source_path text not null,
  kind text not null check (kind in ('calendar', 'addressbook')),
  destination_url text not null,
  display_name text,
  sync_token text,
  ctag text,
  -- What the last complete pass copied of it (events, tasks, contacts: the skip settings then); when the settings
  -- change, the next pass lists the whole collection again.
  included text,
  completed_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (mailbox_id, source_path)
);

-- One row per source object: its ETag when it was copied, and what it became on the destination (href and
-- ETag), or 'skipped' (refused by the destination; tried again when the source changes it).
create table dav_objects (
  mailbox_id bigint not null,
  source_path text not null,
  source_href text not null,
  source_etag text,
  destination_href text not null,
  destination_etag text,
  item_kind text not null check (item_kind in ('event', 'task', 'journal', 'contact', 'group')),
  state text not null check (state in ('copied', 'skipped')),
  updated_at timestamptz not null default now(),
  primary key (mailbox_id, source_path, source_href),
  foreign key (mailbox_id, source_path) references dav_collections (mailbox_id, source_path) on delete cascade
);
