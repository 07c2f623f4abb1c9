-- The key a workflow gives each audit entry it records (its run and the entry's place in it): recording the same
-- entries again (the activity run a second time, by a worker that died after the insert) inserts none of them twice.
-- Entries the API writes have none.
alter table audit_log add column entry_key text;
create unique index audit_log_entry_key_idx on audit_log (entry_key) where entry_key is not null;
