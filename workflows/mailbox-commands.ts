import { ApplicationFailure, getExternalWorkflowHandle, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { AuditEntry } from '../activities/batch-activities';
import type { MailboxChange } from '../activities/mailbox-commands';
import {
  mailboxesChangedSignal,
  type MailboxCommandRequest,
  type MailboxCommandResult,
  type PassKind,
} from '../domain/batch-messages';
import type { BatchStatus, MailboxStatus } from '../domain/batch-status';
import {
  MAILBOX_COMMANDS,
  mailboxAuditCommand,
  mailboxCommandsInBatch,
  mailboxStatusesFor,
  type MailboxCommand,
} from '../domain/mailbox-commands';
import type { BatchActivities, MailboxCommandActivities, SyncActivities, VerifyActivities } from './activity-types';
import type { RunningSyncs } from './running-syncs';
import { describeFailure } from './sync-pass';

const mailboxActivities = proxyActivities<MailboxCommandActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export interface MailboxCommandContext {
  batchId: string;
  batchName: string;
  status: () => BatchStatus;
  /** The kind of pass a mailbox started on its own runs: initial until the batch's initial sync is done. */
  soloPassKind: () => PassKind;
  syncs: RunningSyncs;
  syncActivities: SyncActivities;
  verifyActivities: VerifyActivities;
  batchActivities: BatchActivities;
  audit: AuditEntry[];
  /** Mailbox StartAfter overrides still ahead (id → epoch ms); carried across continue-as-new. */
  startAfter: Record<string, number>;
  /** An admin acted: the inactivity timer starts again and the read model is published. */
  onAdminActivity: () => void;
  /** The batch's mailbox rows changed: reload the counts. */
  onMailboxesChanged: () => void;
}

const CANCELS_SYNC: readonly MailboxCommand[] = ['stop', 'remove', 'move'];
const RESULT_STATUS: Partial<Record<MailboxCommand, MailboxStatus | null>> = {
  stop: 'Stopped',
  start: 'Queued',
  resume: 'Queued',
  remove: null,
  move: null,
};

/**
 * The batch workflow's side of the per-mailbox commands: the `mailboxCommand` update's validator and handler,
 * the syncs of mailboxes started on their own, and the mailbox StartAfter timers. Commands are applied one at a
 * time, in order of arrival.
 */
export function mailboxCommands(ctx: MailboxCommandContext) {
  /** Mailboxes a command took out of the batch's passes in this run; a pass does not schedule them. */
  const left = new Set<string>();
  let soloRunning = 0;
  let last: Promise<unknown> = Promise.resolve();

  const validate = (req: MailboxCommandRequest): void => {
    if (!req || !(MAILBOX_COMMANDS as readonly string[]).includes(req.command)) {
      throw ApplicationFailure.nonRetryable(`unknown mailbox command '${String(req?.command)}'`, 'UNKNOWN_COMMAND');
    }
    if (typeof req.mailboxId !== 'string' || !/^\d+$/.test(req.mailboxId)) {
      throw ApplicationFailure.nonRetryable('mailboxId must be a mailbox id', 'INVALID_MAILBOX_COMMAND');
    }
    if (req.command === 'move' && (!req.target || req.target.batchId === ctx.batchId)) {
      throw ApplicationFailure.nonRetryable('move needs another batch as its target', 'INVALID_MAILBOX_COMMAND');
    }
    const allowed = mailboxCommandsInBatch(ctx.status());
    if (!allowed.includes(req.command)) {
      throw ApplicationFailure.nonRetryable(
        `'${req.command}' of a mailbox is not allowed while the batch is ${ctx.status()} ` +
          `(allowed: ${allowed.join(', ') || 'none'})`,
        'MAILBOX_COMMAND_NOT_ALLOWED',
        { status: ctx.status(), allowedCommands: allowed },
      );
    }
  };

  /** Syncs one mailbox now, beside any pass; a failure out of retries marks the mailbox Failed. */
  const syncAlone = (mailboxId: string): void => {
    soloRunning++;
    void ctx.syncs
      .run(mailboxId, () =>
        ctx.syncActivities.syncMailbox({ batchId: ctx.batchId, mailboxId, pass: ctx.soloPassKind() }),
      )
      .then(
        () => undefined,
        async (err: unknown) => {
          ctx.syncs.takeCancelledByCommand(mailboxId);
          if (!isCancellation(err))
            await ctx.batchActivities.markMailboxesFailed([{ mailboxId, ...describeFailure(err) }]);
        },
      )
      .finally(() => {
        soloRunning--;
        ctx.onMailboxesChanged();
      });
  };

  /**
   * Verifies one mailbox now, beside any pass (the mailbox lock keeps it from running beside the mailbox's sync).
   * Not cancelled by Stop: a stopping batch waits for it, as a verification is short and changes nothing.
   */
  const verifyAlone = (mailboxId: string, deep: boolean): void => {
    soloRunning++;
    void ctx.verifyActivities
      .verifyMailbox({ batchId: ctx.batchId, mailboxId, deep })
      .then(
        () => undefined,
        () => undefined, // out of retries: the mailbox keeps its last verification
      )
      .finally(() => {
        soloRunning--;
      });
  };

  const change = (req: MailboxCommandRequest, from: MailboxStatus[]): Promise<MailboxChange> => {
    const guard = { mailboxId: req.mailboxId, batchId: ctx.batchId, from };
    switch (req.command) {
      case 'stop':
        return mailboxActivities.stopMailbox(guard);
      case 'start':
      case 'resume':
        return mailboxActivities.requeueMailbox(guard);
      case 'remove':
        return mailboxActivities.removeMailbox(guard);
      case 'move':
        return mailboxActivities.moveMailbox({ ...guard, toBatchId: req.target!.batchId });
      case 'set':
        return mailboxActivities.setMailboxOverrides({ ...guard, overrides: req.overrides ?? {} });
      case 'verify':
        return mailboxActivities.checkMailbox(guard);
    }
  };

  const record = (req: MailboxCommandRequest, outcome: AuditEntry['outcome'], detail: Record<string, unknown>) => {
    const entry = {
      actor: req.by ?? 'unknown',
      command: mailboxAuditCommand(req.command),
      outcome,
      at: new Date().toISOString(),
      detail: { mailboxId: req.mailboxId, email: req.email, ...detail },
    };
    ctx.audit.push({ batchId: ctx.batchId, batchName: ctx.batchName, ...entry });
    if (req.command === 'move' && outcome === 'accepted') {
      ctx.audit.push({ batchId: req.target!.batchId, batchName: req.target!.name, ...entry });
    }
  };

  const rememberStartAfter = (req: MailboxCommandRequest): void => {
    const at = req.overrides?.startAfter;
    if (at === undefined) return;
    const ms = at === null ? NaN : Date.parse(at);
    if (Number.isNaN(ms) || ms <= Date.now()) delete ctx.startAfter[req.mailboxId];
    else ctx.startAfter[req.mailboxId] = ms;
  };

  const apply = async (req: MailboxCommandRequest): Promise<MailboxCommandResult> => {
    const from = mailboxStatusesFor(ctx.status(), req.command);
    let interrupted = false;
    if (CANCELS_SYNC.includes(req.command)) {
      left.add(req.mailboxId);
      interrupted = await ctx.syncs.cancel(req.mailboxId);
    }
    const result = await change(req, from);
    if (!result.applied) {
      left.delete(req.mailboxId);
      // A sync cancelled for a command that was then refused runs again, from where it stopped.
      if (interrupted) syncAlone(req.mailboxId);
      const code = result.code ?? (result.before === null ? 'MAILBOX_NOT_FOUND' : 'MAILBOX_COMMAND_NOT_ALLOWED');
      record(req, 'rejected', { mailboxStatus: result.before, code });
      return { outcome: 'rejected', status: result.before, code };
    }
    record(req, 'accepted', {
      ...(req.target ? { toBatch: req.target.name } : {}),
      ...(req.overrides ? { overrides: req.overrides } : {}),
      ...(req.command === 'verify' ? { deep: req.deep === true } : {}),
    });
    ctx.onAdminActivity();
    ctx.onMailboxesChanged();
    switch (req.command) {
      case 'start':
      case 'resume':
        left.delete(req.mailboxId);
        delete ctx.startAfter[req.mailboxId];
        // The batch may have been stopped meanwhile; its next start then syncs the mailbox with the rest.
        if (mailboxCommandsInBatch(ctx.status()).includes('start')) syncAlone(req.mailboxId);
        break;
      case 'set':
        rememberStartAfter(req);
        break;
      case 'verify':
        verifyAlone(req.mailboxId, req.deep === true);
        break;
      case 'move':
        await getExternalWorkflowHandle(req.target!.workflowId)
          .signal(mailboxesChangedSignal)
          .catch(() => undefined); // a target without a running workflow reloads its counts when it starts
        delete ctx.startAfter[req.mailboxId];
        break;
      default:
        delete ctx.startAfter[req.mailboxId];
    }
    return { outcome: 'accepted', status: RESULT_STATUS[req.command] ?? result.before };
  };

  return {
    validate,
    /** The update's handler: one command at a time, in order. */
    handle(req: MailboxCommandRequest): Promise<MailboxCommandResult> {
      const next = last.then(() => apply(req));
      last = next.catch(() => undefined);
      return next;
    },
    /** Whether a pass should leave this mailbox alone: a command took it out, or it syncs on its own. */
    skip: (mailboxId: string): boolean => left.has(mailboxId) || ctx.syncs.has(mailboxId),
    /** No sync started by a mailbox command is still running (the run may end or continue as new). */
    idle: (): boolean => soloRunning === 0,
    /** Syncs the mailboxes whose own StartAfter has come (the batch is Synced: no pass would reach them). */
    startDue(): void {
      const now = Date.now();
      for (const [mailboxId, at] of Object.entries(ctx.startAfter)) {
        if (at > now) continue;
        delete ctx.startAfter[mailboxId];
        if (!ctx.syncs.has(mailboxId)) syncAlone(mailboxId);
      }
    },
  };
}

export type MailboxCommands = ReturnType<typeof mailboxCommands>;
