import { insertAuditEntries } from '../db/audit';
import { deleteBatchRows } from '../db/batches';
import { allowedCommands, isCommandAllowed, type BatchCommand, type BatchStatus } from '../domain/batch-status';
import { selectUnapproved } from '../db/verifications';
import type { BatchSnapshot, CommandRequest } from '../domain/batch-messages';
import { auditRejection, batchDetail, findBatch, type BatchDetail, type BatchRow } from './batch-store';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';
import type { Actor } from './tokens-store';
import { queryBatch, sendCommand } from './workflow-client';

/**
 * Statuses in which a command has already taken effect: repeating it answers 200 with the current state and
 * `outcome: "alreadyApplied"` instead of 409 (documented in docs/api.md). Edit is never "already applied".
 */
export const ALREADY_APPLIED: Record<BatchCommand, readonly BatchStatus[]> = {
  start: ['Queued', 'Starting', 'Syncing', 'Synced', 'SyncedWithErrors'],
  stop: ['Stopping', 'Stopped'],
  resume: ['Queued', 'Starting', 'Syncing', 'Synced'],
  complete: ['Completing', 'Completed'],
  syncNow: ['Queued', 'Starting', 'Syncing'],
  remove: ['Removing'],
  edit: [],
  verify: [],
};

export interface CommandResult {
  command: BatchCommand;
  outcome: 'accepted' | 'alreadyApplied';
  batch: BatchDetail;
}

async function refuse(
  deps: ApiDeps,
  actor: Actor,
  row: BatchRow,
  command: BatchCommand,
  status: BatchStatus,
  reason: string,
  message = `${command} is not allowed while the batch is ${status}`,
): Promise<never> {
  const allowed = [...allowedCommands(status)];
  await auditRejection(deps, {
    batchId: row.id,
    batchName: row.name,
    actor: actor.owner,
    command,
    detail: { status, allowedCommands: allowed, reason },
  });
  throw new ApiError('COMMAND_NOT_ALLOWED', message, {
    status,
    allowedCommands: allowed,
  });
}

/**
 * The completion gate (as Exchange's approval of skipped items): Complete is refused while a mailbox's last
 * verification graded Investigate or Poor and nobody approved its differences (POST
 * /mailboxes/{id}/approve-skipped-items). The refusal names the mailboxes and is audited.
 */
async function requireApprovedConsistency(deps: ApiDeps, actor: Actor, row: BatchRow): Promise<void> {
  const unapproved = await selectUnapproved(deps.pool, row.id);
  if (unapproved.length === 0) return;
  const shown = unapproved.slice(0, 10).map((m) => `${m.email} (${m.grade})`);
  const more = unapproved.length > shown.length ? ` and ${unapproved.length - shown.length} more` : '';
  const message =
    `complete needs the differences of ${unapproved.length} mailbox(es) approved first: ${shown.join(', ')}${more}; ` +
    'review them in the users report and approve each with POST /mailboxes/{id}/approve-skipped-items';
  const mailboxes = unapproved.slice(0, 100);
  await auditRejection(deps, {
    batchId: row.id,
    batchName: row.name,
    actor: actor.owner,
    command: 'complete',
    detail: { reason: 'CONSISTENCY_NOT_APPROVED', mailboxes },
  });
  throw new ApiError('CONSISTENCY_NOT_APPROVED', message, { mailboxes, total: unapproved.length });
}

/**
 * Checks the command against the status table, then has the workflow apply it through the `command` update.
 * The first check reads the read model, which can lag the workflow by a moment: a command it allows goes
 * straight to the workflow, whose validator has the last word, and only one it would refuse or call already
 * applied is checked again against the workflow's own status (a query: a round trip to the worker, about a tenth
 * of a no-change pass, saved on every command that goes through). Remove always asks: it must know whether a
 * workflow still answers.
 */
export async function runCommand(
  deps: ApiDeps,
  actor: Actor,
  ref: string,
  command: BatchCommand,
  options: Pick<CommandRequest, 'edit' | 'deep'> = {},
): Promise<CommandResult> {
  const row = await findBatch(deps.pool, ref);
  const answeredWithoutSending = (status: BatchStatus) =>
    ALREADY_APPLIED[command].includes(status) || !isCommandAllowed(status, command);
  const live =
    command === 'remove' || answeredWithoutSending(row.status) ? await queryBatch(deps, row.workflow_id) : undefined;
  const status = live?.status ?? row.status;
  // A batch left in Removing without a workflow that answers gets its remove handed on, so its rows go.
  const orphanedRemoval = command === 'remove' && !live;
  if (ALREADY_APPLIED[command].includes(status) && !orphanedRemoval) {
    return { command, outcome: 'alreadyApplied', batch: await batchDetail(deps, row, live) };
  }
  if (!isCommandAllowed(status, command) && !(orphanedRemoval && status === 'Removing')) {
    await refuse(deps, actor, row, command, status, 'status');
  }
  if (command === 'complete') await requireApprovedConsistency(deps, actor, row);

  let snapshot: BatchSnapshot;
  try {
    const outcome = await sendCommand(deps, row.workflow_id, { command, by: actor.owner, ...options });
    if (outcome.kind === 'rejected') {
      const now = await queryBatch(deps, row.workflow_id);
      const nowStatus = now?.status ?? status;
      if (ALREADY_APPLIED[command].includes(nowStatus)) {
        return { command, outcome: 'alreadyApplied', batch: await batchDetail(deps, row, now) };
      }
      // A validator cannot record anything: the API writes the workflow's refusal to the audit log, as its own.
      return await refuse(
        deps,
        actor,
        row,
        command,
        nowStatus,
        'workflow',
        `the batch refused ${command}: ${outcome.message}`,
      );
    }
    snapshot = outcome.value;
  } catch (err) {
    if (command === 'remove' && err instanceof ApiError && err.code === 'WORKFLOW_NOT_RUNNING') {
      // No workflow is left to clean up: delete the rows here, as its removal would, so the batch does not linger.
      const detail = await batchDetail(deps, row, undefined);
      await deleteBatchRows(deps.pool, row.id);
      // No workflow records this removal, so the API does: who removed the batch stays on record.
      await insertAuditEntries(deps.pool, [
        {
          batchId: row.id,
          batchName: row.name,
          actor: actor.owner,
          command: 'remove',
          outcome: 'accepted',
          detail: { source: 'api', workflow: 'not running' },
        },
      ]);
      deps.logger.warn('batch removed without its workflow', {
        batchId: row.id,
        workflowId: row.workflow_id,
        by: actor.owner,
      });
      return {
        command,
        outcome: 'accepted',
        batch: { ...detail, status: 'Removing', statusLabel: 'Removing', allowedCommands: [] },
      };
    }
    throw err;
  }
  const fresh = await findBatch(deps.pool, row.id).catch(() => row);
  return { command, outcome: 'accepted', batch: await batchDetail(deps, fresh, snapshot) };
}
