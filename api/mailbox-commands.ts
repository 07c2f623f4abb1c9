import { insertAuditEntries } from '../db/audit';
import { replaceMailboxSecret } from '../db/mailbox-commands';
import { approveVerification } from '../db/verifications';
import { mailboxUser, type MailboxUserRow } from '../db/mailbox-report';
import { secretContext } from '../secrets/secret-box';
import type { MailboxCommandRequest, MailboxCommandResult } from '../domain/batch-messages';
import { CLOSED_STATUSES, type BatchStatus, type MailboxStatus } from '../domain/batch-status';
import {
  allowedMailboxCommands,
  mailboxAuditCommand,
  type MailboxCommand,
  type MailboxOverrides,
} from '../domain/mailbox-commands';
import { auditRejection, findBatch } from './batch-store';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';
import { userView } from './mailbox-view';
import type { Actor } from './tokens-store';
import { queryBatch, sendMailboxCommand } from './workflow-client';

export interface MailboxCommandArgs {
  /** move: the target batch, by id or name. */
  targetBatch?: string;
  /** set. */
  overrides?: MailboxOverrides;
  /** verify: compare full contents too. */
  deep?: boolean;
}

export async function findUser(deps: ApiDeps, mailboxId: string): Promise<MailboxUserRow> {
  const user = await mailboxUser(deps.pool, mailboxId);
  if (!user) throw new ApiError('MAILBOX_NOT_FOUND', `no mailbox with id ${mailboxId}`);
  return user;
}

/** The batch's live status (its workflow's), else the read model's. */
async function batchStatusOf(deps: ApiDeps, user: MailboxUserRow): Promise<BatchStatus> {
  return (await queryBatch(deps, user.workflow_id))?.status ?? (user.batch_status as BatchStatus);
}

function notAllowed(command: MailboxCommand, batch: BatchStatus, mailbox: MailboxStatus | null): ApiError {
  const allowedCommands = mailbox ? allowedMailboxCommands(batch, mailbox) : [];
  return new ApiError(
    'MAILBOX_COMMAND_NOT_ALLOWED',
    `${command} is not allowed for a mailbox that is ${mailbox} in a batch that is ${batch}`,
    { status: mailbox, batchStatus: batch, allowedCommands },
  );
}

/** The API error for a command the workflow refused when it applied it. */
function refusal(req: MailboxCommandRequest, result: MailboxCommandResult, batch: BatchStatus): ApiError {
  switch (result.code) {
    case 'MAILBOX_NOT_FOUND':
      return new ApiError('MAILBOX_NOT_FOUND', `mailbox ${req.mailboxId} is no longer in the batch`);
    case 'MAILBOX_ALREADY_IN_BATCH':
      return new ApiError('MAILBOX_ALREADY_IN_BATCH', `${req.email} is already in batch ${req.target?.name}`);
    case 'BATCH_ENDPOINTS_DIFFER':
      return new ApiError(
        'BATCH_ENDPOINTS_DIFFER',
        `batch ${req.target?.name} moves mail between other endpoints; a mailbox can only move between batches ` +
          'with the same source and destination',
      );
    default:
      return notAllowed(req.command, batch, result.status);
  }
}

/** move: the target batch, open for new mailboxes and not the mailbox's own. */
async function moveTarget(deps: ApiDeps, user: MailboxUserRow, ref: string | undefined) {
  if (!ref) throw new ApiError('VALIDATION_FAILED', 'move needs targetBatch');
  const target = await findBatch(deps.pool, ref);
  if (target.id === user.batch_id) {
    throw new ApiError('VALIDATION_FAILED', `the mailbox is in batch ${target.name} already`);
  }
  if (CLOSED_STATUSES.includes(target.status)) {
    throw new ApiError('BATCH_NOT_EDITABLE', `batch ${target.name} is ${target.status}: it takes no mailboxes`, {
      status: target.status,
    });
  }
  return { batchId: target.id, name: target.name, workflowId: target.workflow_id };
}

/**
 * Checks a mailbox command against the status table (the mailbox's status and its batch's), then has the batch
 * workflow apply it through the `mailboxCommand` update; the workflow checks again as it applies it, and writes
 * the audit entry. A refusal here is audited by the API.
 */
export async function runMailboxCommand(
  deps: ApiDeps,
  actor: Actor,
  mailboxId: string,
  command: MailboxCommand,
  args: MailboxCommandArgs = {},
) {
  const user = await findUser(deps, mailboxId);
  const batchStatus = await batchStatusOf(deps, user);
  const status = user.status as MailboxStatus;
  if (!allowedMailboxCommands(batchStatus, status).includes(command)) {
    const error = notAllowed(command, batchStatus, status);
    await auditRejection(deps, {
      batchId: user.batch_id,
      batchName: user.batch_name,
      actor: actor.owner,
      command: mailboxAuditCommand(command),
      detail: { mailboxId, email: user.email, ...error.details },
    });
    throw error;
  }
  const request: MailboxCommandRequest = {
    command,
    mailboxId,
    email: user.email,
    by: actor.owner,
    ...(command === 'move' ? { target: await moveTarget(deps, user, args.targetBatch) } : {}),
    ...(command === 'set' ? { overrides: args.overrides ?? {} } : {}),
    ...(command === 'verify' ? { deep: args.deep === true } : {}),
  };
  const outcome = await sendMailboxCommand(deps, user.workflow_id, request);
  if (outcome.kind === 'rejected') {
    const now = await batchStatusOf(deps, user);
    throw new ApiError('MAILBOX_COMMAND_NOT_ALLOWED', `the batch refused ${command}: ${outcome.message}`, {
      status,
      batchStatus: now,
      allowedCommands: allowedMailboxCommands(now, status),
    });
  }
  if (outcome.value.outcome === 'rejected') throw refusal(request, outcome.value, batchStatus);
  const after = await mailboxUser(deps.pool, mailboxId);
  return { command, outcome: 'accepted' as const, user: after && userView(after, await batchStatusOf(deps, after)) };
}

/**
 * A new password for one side of a mailbox, for when it changed on the server during the migration (its sync
 * then fails with AUTH_FAILED). Sealed and stored by the API itself: a secret never travels through the workflow.
 * With `resume`, the mailbox is resumed at once when its status allows.
 */
export async function setMailboxPassword(
  deps: ApiDeps,
  actor: Actor,
  mailboxId: string,
  change: { side: 'source' | 'destination'; password: string; resume: boolean },
) {
  const user = await findUser(deps, mailboxId);
  const context =
    change.side === 'source'
      ? secretContext.mailboxSource(user.batch_id, user.email)
      : secretContext.mailboxDestination(user.batch_id, user.email);
  const stored = await replaceMailboxSecret(deps.pool, {
    mailboxId,
    side: change.side,
    sealed: deps.secretBox.seal(change.password, context),
  });
  if (!stored) throw new ApiError('MAILBOX_NOT_FOUND', `no mailbox with id ${mailboxId}`);
  await insertAuditEntries(deps.pool, [
    {
      batchId: user.batch_id,
      batchName: user.batch_name,
      actor: actor.owner,
      command: 'setMailboxPassword',
      outcome: 'accepted',
      detail: { source: 'api', mailboxId, email: user.email, side: change.side },
    },
  ]);
  if (change.resume) {
    const resumed = await runMailboxCommand(deps, actor, mailboxId, 'resume');
    return { outcome: 'accepted' as const, resumed: true, user: resumed.user };
  }
  return { outcome: 'accepted' as const, resumed: false, user: userView(user, await batchStatusOf(deps, user)) };
}

/**
 * Approves the differences of a mailbox's last verification (Exchange's approval of skipped items), so Complete
 * goes ahead despite an Investigate or Poor grade. Recorded in the audit log as `approveSkippedItems`; a new
 * verification asks for a new approval. NOT_VERIFIED when the mailbox has no verification yet.
 */
export async function approveSkippedItems(deps: ApiDeps, actor: Actor, mailboxId: string) {
  const user = await findUser(deps, mailboxId);
  const approved = await approveVerification(deps.pool, mailboxId, actor.owner);
  if (!approved) {
    throw new ApiError(
      'NOT_VERIFIED',
      `${user.email} has not been verified yet: verify it first (POST /mailboxes/${mailboxId}/verify)`,
    );
  }
  await insertAuditEntries(deps.pool, [
    {
      batchId: user.batch_id,
      batchName: user.batch_name,
      actor: actor.owner,
      command: 'approveSkippedItems',
      outcome: 'accepted',
      detail: {
        source: 'api',
        mailboxId,
        email: user.email,
        grade: approved.grade,
        differenceCount: approved.differenceCount,
        verifiedAt: approved.verifiedAt,
      },
    },
  ]);
  const after = await mailboxUser(deps.pool, mailboxId);
  return { outcome: 'accepted' as const, user: after && userView(after, await batchStatusOf(deps, after)) };
}
