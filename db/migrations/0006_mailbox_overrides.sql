-- Per-mailbox overrides of the batch's settings (Exchange's Set-MigrationUser). Null means the batch's value.
alter table mailboxes
  add column start_after timestamptz,
  add column bad_item_limit integer check (bad_item_limit >= 0),
  add column large_item_limit integer check (large_item_limit >= 0),
  add column folder_include text[],
  add column folder_exclude text[];
