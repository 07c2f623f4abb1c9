-- The last verification of each mailbox (imap/verify.ts): its grade, the differences between source and
-- destination, and the administrator's approval of them (Complete waits for it while the grade is Investigate or
-- Poor). A new verification replaces the row, approval included.
create table verifications (
  mailbox_id bigint primary key references mailboxes (id) on delete cascade,
  grade text not null check (grade in ('Perfect', 'Good', 'Investigate', 'Poor')),
  deep boolean not null,
  source_items bigint not null,
  destination_items bigint not null,
  -- [{kind, type, folder, side, messageId, subject, date, size, detail, count}] (domain/consistency.ts)
  differences jsonb not null default '[]',
  -- all the differences found; `differences` keeps the first 1,000 of them
  difference_count integer not null default 0,
  verified_at timestamptz not null default now(),
  approved_by text,
  approved_at timestamptz
);
