-- IMAP sync engine state beyond 0001: what each folder looked like at the end of the last pass (so an unchanged
-- folder costs one STATUS), the source -> destination message map that makes every copy exactly-once, and the
-- append intents that let a crashed sync find out which of its in-flight messages reached the destination.

alter table folder_checkpoints
  add column source_uidnext bigint,
  add column source_messages bigint,
  add column destination_uidnext bigint,
  add column subscribed boolean not null default true,
  add column special_use text,
  add column completed_at timestamptz;

-- One row per source message handled: copied (destination_uid when the server reported it), skipped, or linked
-- (Gmail's All Mail: the same message was already copied from a label folder, so it is not copied again).
create table message_map (
  mailbox_id bigint not null references mailboxes (id) on delete cascade,
  source_folder text not null,
  source_uidvalidity bigint not null,
  source_uid bigint not null,
  destination_folder text not null,
  destination_uidvalidity bigint,
  destination_uid bigint,
  -- sha256 of the message as fetched (hex); matches copies after a crash or a UIDVALIDITY change
  sha256 text,
  size_bytes bigint,
  state text not null check (state in ('copied', 'skipped', 'linked')),
  primary key (mailbox_id, source_folder, source_uidvalidity, source_uid)
);
create index message_map_sha_idx on message_map (mailbox_id, sha256);

-- In-flight APPENDs of a folder (one per batch of messages; the next batch is sent while the previous one is
-- being recorded). Written before the messages are sent, deleted in the statement that records them; a row found
-- at the start of a sync means the last one stopped mid-append.
create table append_intents (
  mailbox_id bigint not null references mailboxes (id) on delete cascade,
  source_folder text not null,
  first_source_uid bigint not null,
  source_uidvalidity bigint not null,
  destination_folder text not null,
  destination_uidvalidity bigint not null,
  -- the destination's UIDNEXT before the append: every copy of ours has a UID at or above it
  destination_uidnext bigint not null,
  source_uids bigint[] not null,
  sha256s text[] not null,
  sizes bigint[] not null,
  created_at timestamptz not null default now(),
  primary key (mailbox_id, source_folder, first_source_uid)
);

alter table skipped_items add column kind text not null default 'bad' check (kind in ('bad', 'large'));
