-- E-mailed reports (Exchange's NotificationEmails/ReportInterval): who gets them, how often a summary goes out,
-- and the last delivery error that the batch detail shows. batch_reports records every report by its key
-- (the status it announces, or the summary's due time), so a retried send never mails a report twice.
alter table batches
  add column notification_emails text[] not null default '{}',
  add column report_interval_ms bigint not null default 86400000 check (report_interval_ms > 0),
  add column skip_reports boolean not null default false,
  add column last_report_error text,
  add column last_report_at timestamptz;

create table batch_reports (
  batch_id uuid not null references batches (id) on delete cascade,
  report_key text not null,
  claimed_at timestamptz not null default now(),
  -- null until the SMTP server accepted the message: a claim without it is sent again by the next attempt
  sent_at timestamptz,
  recipients text[] not null,
  message_id text,
  primary key (batch_id, report_key)
);
