import type { Pool, PoolClient } from 'pg';
import type { z } from 'zod';
import { findEndpointRow } from '../db/endpoints';
import { insertMailboxRows, lockMailboxAssignment, mailboxesHeld } from '../db/mailboxes';
import { isMintedTokenMethod } from '../domain/endpoint-auth';
import type { mailboxJson } from './contract/mailboxes';
import { secretContext, type SecretBox } from '../secrets/secret-box';
import { ApiError } from './errors';
import {
  failed,
  MAX_CSV_BYTES,
  parseMailboxCsv,
  type MailboxListOptions,
  validateMailboxList,
  type PositionedMailbox,
  type RowProblem,
} from './mailbox-csv';

/** A mailbox may be in one active batch at a time; a Completed (or Removing) batch no longer holds it. */
type ListErrorCode = 'CSV_INVALID' | 'MAILBOXES_INVALID';

/** A validated mailbox list, and the error code its problems are reported under. */
export interface MailboxList {
  mailboxes: PositionedMailbox[];
  code: ListErrorCode;
}

function listRejection(code: ListErrorCode, problems: RowProblem[], truncated: boolean): ApiError {
  const first = problems[0];
  const where =
    first?.line !== undefined ? `line ${first.line}` : first?.item !== undefined ? `item ${first.item}` : '';
  return new ApiError(
    code,
    `${problems.length}${truncated ? '+' : ''} problem(s) in the mailbox list; nothing was created. First: ${where}: ${first?.message ?? ''}`,
    { problems, truncated },
  );
}

/** How a list for a batch with this source endpoint is checked: no Password where the endpoint mints tokens. */
export async function mailboxListOptions(pool: Pool, sourceEndpointId: string): Promise<MailboxListOptions> {
  const source = await findEndpointRow(pool, sourceEndpointId);
  return { passwordOptional: source !== null && isMintedTokenMethod(source.auth_method) };
}

/**
 * Validates the mailboxes of a request (CSV text or JSON list) on their own, without the database. Throws 422
 * with every problem and its line (or item).
 */
export function validateMailboxes(
  input: { csv?: string; mailboxes?: z.infer<typeof mailboxJson>[] },
  options: MailboxListOptions = {},
): MailboxList {
  const isCsv = input.csv !== undefined;
  if (isCsv && Buffer.byteLength(input.csv!, 'utf8') > MAX_CSV_BYTES) {
    throw new ApiError('CSV_TOO_LARGE', `the CSV is larger than ${MAX_CSV_BYTES} bytes (10 MB)`, {
      limitBytes: MAX_CSV_BYTES,
    });
  }
  const result = isCsv ? parseMailboxCsv(input.csv!, options) : validateMailboxList(input.mailboxes ?? [], options);
  const code = isCsv ? 'CSV_INVALID' : 'MAILBOXES_INVALID';
  if (!result.ok) throw listRejection(code, result.problems, result.truncated);
  return { mailboxes: result.mailboxes, code };
}

/**
 * Advisory-lock key that serializes every assignment of mailboxes to batches (creating a batch, adding
 * mailboxes), so "is this mailbox free?" and the insert that takes it cannot interleave with another request's.
 */
/**
 * Claims the mailboxes for a batch: takes the mailbox-assignment lock, then checks that none is already in
 * another active batch (or, with `batchId`, already in this one); throws 422 naming each mailbox otherwise.
 * Call it inside the transaction that inserts them (`begin` first): the lock is held until that transaction
 * ends, so a concurrent request waits and then sees these mailboxes as taken.
 */
export async function claimMailboxes(client: PoolClient, list: MailboxList, batchId?: string): Promise<void> {
  await lockMailboxAssignment(client);
  const emails = list.mailboxes.map((m) => m.emailAddress.toLowerCase());
  const rows = await mailboxesHeld(client, emails, batchId ?? null);
  if (rows.length === 0) return;
  const holder = new Map(rows.map((r) => [r.email, r]));
  const problems: RowProblem[] = [];
  for (const m of list.mailboxes) {
    const other = holder.get(m.emailAddress.toLowerCase());
    if (!other) continue;
    const at = m.line !== undefined ? { line: m.line } : { item: m.item };
    problems.push(
      other.batch_id === batchId
        ? {
            ...at,
            column: 'EmailAddress',
            code: 'DUPLICATE_ROW',
            message: `${m.emailAddress} is already in this batch`,
          }
        : {
            ...at,
            column: 'EmailAddress',
            code: 'MAILBOX_IN_ACTIVE_BATCH',
            message: `${m.emailAddress} is already in the active batch "${other.batch_name}"`,
          },
    );
  }
  const f = failed(problems);
  throw listRejection(list.code, f.problems, f.truncated);
}

/** Inserts mailboxes with sealed passwords, in chunks, inside the caller's transaction. */
export async function insertMailboxes(
  client: PoolClient,
  secretBox: SecretBox,
  batchId: string,
  mailboxes: PositionedMailbox[],
): Promise<void> {
  await insertMailboxRows(
    client,
    batchId,
    mailboxes.map((m) => ({
      email: m.emailAddress,
      sourceUser: m.userName,
      // No password: the source endpoint mints the mailbox's tokens (a list checked with passwordOptional).
      sourceSecret: m.password
        ? secretBox.seal(m.password, secretContext.mailboxSource(batchId, m.emailAddress))
        : null,
      destinationUser: m.destinationUserName ?? null,
      destinationSecret:
        m.destinationPassword === undefined
          ? null
          : secretBox.seal(m.destinationPassword, secretContext.mailboxDestination(batchId, m.emailAddress)),
    })),
  );
}
