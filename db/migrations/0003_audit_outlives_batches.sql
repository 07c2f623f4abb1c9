-- Audit entries outlive their batch: who removed a batch stays on record after the batch's rows are gone.
-- batch_id and batch_name are recorded values, not references (0001 declared no foreign key; drop one if a
-- hand-made schema added it), and the log is read newest first and trimmed by age, so index `at`.
alter table audit_log drop constraint if exists audit_log_batch_id_fkey;
create index if not exists audit_log_at_idx on audit_log (at desc, id desc);
