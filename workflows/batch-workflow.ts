import {
  ActivityCancellationType,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AuditEntry, BatchStatusRecord } from '../activities/batch-activities';
import {
  commandUpdate,
  completeSignal,
  editSignal,
  mailboxCommandUpdate,
  mailboxesChangedSignal,
  removeSignal,
  resumeSignal,
  startSignal,
  statusQuery,
  stopSignal,
  syncNowSignal,
  verifySignal,
  type BatchEdit,
  type CommandRequest,
  type PassKind,
} from '../domain/batch-messages';
import {
  ALL_MAILBOXES_FAILED,
  allowedCommands,
  BATCH_COMMANDS,
  isCommandAllowed,
  settledStatus,
  STATUS_LABELS,
  type BatchStatus,
} from '../domain/batch-status';
import { actorOf, parseEdit } from '../domain/batch-edit';
import { batchNameAttribute, batchStatusAttribute } from '../domain/search-attributes';
import type { BatchActivities, SyncActivities } from './activity-types';
import {
  DEFAULT_POLICY,
  type BatchWorkflowInput,
  type LifecyclePolicy,
  type PassState,
  type QueuedCommand,
} from '../domain/batch-workflow-input';
import { initialState, nextDeadline, parseTime, remember, scheduleFields, snapshot } from './batch-state';
import { startBatchReports } from './batch-reports';
import { mailboxCommands } from './mailbox-commands';
import { RunningSyncs } from './running-syncs';
import { readPage, runPass } from './sync-pass';
import { newVerification, runVerification, verifyActivitiesFor, type VerificationContext } from './verification';

/** Guards the Stop that arrives with a pass's last result (see runCurrentPass). */
export const STOP_AT_PASS_END_PATCH = 'stop-at-pass-end';

/**
 * Since this patch the command's audit entry and the batch's status are written at once, and a sync-now on a
 * settled batch begins its pass in the workflow task that took it: a no-change pass waits for two activities
 * fewer, one after the other.
 */
export const BOOKKEEPING_AT_ONCE_PATCH = 'bookkeeping-at-once';

/**
 * Since this patch a pass's first page of mailbox ids is read as the pass begins, beside the audit entry and the
 * status, not in the workflow task after them: a no-change pass waits for one activity fewer.
 */
export const FIRST_PAGE_AT_ONCE_PATCH = 'first-page-at-once';

/**
 * Since this patch a sync pass that ends reads the counts, settles the status and publishes it in one activity
 * (`settlePass`) instead of reading the counts and then publishing: a pass waits for one activity fewer.
 */
export const SETTLE_AT_ONCE_PATCH = 'settle-at-once';

const batchActivities = proxyActivities<BatchActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * The mailbox syncs, with the batch's heartbeat timeout. Activity options are not part of replay's determinism
 * check, so a running batch that picks up another timeout (continue-as-new, a new deployment) replays fine.
 */
function syncActivitiesFor(policy: LifecyclePolicy): SyncActivities {
  return proxyActivities<SyncActivities>({
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: policy.syncHeartbeatTimeoutMs,
    // A server that comes back is used within seconds: the backoff is capped at 10 s, and the attempts cover about
    // the 20 minutes of outage that 8 attempts up to 10 minutes apart did before.
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 120 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
}

/** The actor named in the audit log for what the lifecycle policies do on their own. */
const POLICY_ACTOR = 'lifecycle-policy';
/** The actor of a signal that names nobody (sent from the Temporal Web UI without an input). */
const SIGNAL_ACTOR = 'temporal-ui';

/**
 * One migration batch, from creation to removal. Commands arrive as signals or as the `command` update and are
 * checked against the status table; timers run the 24-hour incremental syncs, StartAfter/CompleteAfter, the
 * 60-day inactivity stop and the 90/60-day removals. The history is bounded by continue-as-new, carrying the
 * whole state (absolute deadlines, unapplied commands, the cursor of a running pass).
 */
export async function batchWorkflow(input: BatchWorkflowInput): Promise<void> {
  // Decided once per run: a run recorded before the patch replays as it ran, from start to end.
  const bookkeepingAtOnce = patched(BOOKKEEPING_AT_ONCE_PATCH);
  const firstPageAtOnce = patched(FIRST_PAGE_AT_ONCE_PATCH);
  const settleAtOnce = patched(SETTLE_AT_ONCE_PATCH);
  const policy = { ...DEFAULT_POLICY, ...input.policy };
  const syncActivities = syncActivitiesFor(policy);
  const verifyActivities = verifyActivitiesFor(policy);
  const s = input.carried ?? initialState(input, Date.now());
  const reports = startBatchReports(input, s);
  const audit: AuditEntry[] = [];
  let dirty = input.carried === undefined;

  const rollOverDue = (): boolean => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= policy.historyEventBudget;
  };

  const record = (
    req: CommandRequest,
    outcome: 'accepted' | 'rejected',
    status: BatchStatus,
    reason?: string,
  ): void => {
    const at = new Date().toISOString();
    const by = req.by ?? 'unknown';
    remember(s, { command: req.command, by, at, outcome, ...(outcome === 'rejected' ? { status } : {}) });
    audit.push({
      batchId: input.batchId,
      batchName: input.name,
      actor: by,
      command: req.command,
      outcome,
      at,
      detail:
        outcome === 'rejected'
          ? { status, ...(reason ? { reason } : {}) }
          : req.edit
            ? { edit: req.edit }
            : req.deep
              ? { deep: true }
              : {},
    });
  };

  /** Queues an allowed command for the main loop; a command the status does not allow is recorded and dropped. */
  const receive = (req: CommandRequest): number | undefined => {
    if (!isCommandAllowed(s.status, req.command)) {
      record(req, 'rejected', s.status);
      return undefined;
    }
    const queued: QueuedCommand = { ...req, seq: s.nextSeq++, at: Date.now() };
    s.inbox.push(queued);
    return queued.seq;
  };

  const signalled = (command: CommandRequest['command']) => (actor?: { by?: string }) => {
    receive({ command, by: actorOf(actor, SIGNAL_ACTOR) });
  };
  setHandler(startSignal, signalled('start'));
  setHandler(stopSignal, signalled('stop'));
  setHandler(resumeSignal, signalled('resume'));
  setHandler(completeSignal, signalled('complete'));
  setHandler(removeSignal, signalled('remove'));
  setHandler(syncNowSignal, signalled('syncNow'));
  setHandler(verifySignal, (args) => {
    receive({ command: 'verify', by: actorOf(args, SIGNAL_ACTOR), deep: args?.deep === true });
  });
  setHandler(editSignal, (args) => {
    const by = actorOf(args, SIGNAL_ACTOR);
    const parsed = parseEdit(args ?? {});
    if (parsed.ok) receive({ command: 'edit', by, edit: parsed.edit });
    else record({ command: 'edit', by }, 'rejected', s.status, parsed.reason);
  });
  setHandler(
    commandUpdate,
    async (req) => {
      const seq = receive(req);
      if (seq !== undefined) await condition(() => s.processedSeq >= seq);
      return snapshot(input, s, policy);
    },
    {
      validator: (req) => {
        if (!req || !(BATCH_COMMANDS as readonly string[]).includes(req.command)) {
          throw ApplicationFailure.nonRetryable(`unknown command '${String(req?.command)}'`, 'UNKNOWN_COMMAND');
        }
        if (req.command === 'edit') {
          const parsed = parseEdit(req.edit ?? {});
          if (!parsed.ok) throw ApplicationFailure.nonRetryable(parsed.reason, 'INVALID_EDIT');
        }
        if (!isCommandAllowed(s.status, req.command)) {
          throw ApplicationFailure.nonRetryable(
            `'${req.command}' is not allowed while the batch is ${STATUS_LABELS[s.status]} ` +
              `(allowed: ${allowedCommands(s.status).join(', ') || 'none'})`,
            'COMMAND_NOT_ALLOWED',
            { status: s.status, allowedCommands: allowedCommands(s.status) },
          );
        }
      },
    },
  );
  setHandler(statusQuery, () => snapshot(input, s, policy));
  let countsStale = false;
  setHandler(mailboxesChangedSignal, () => {
    countsStale = true;
  });

  /** A mailbox command changed the counts: a settled batch's status follows them (Synced vs with errors). */
  let statusFollowsCounts = false;
  const syncs = new RunningSyncs();
  const mailbox = mailboxCommands({
    batchId: input.batchId,
    batchName: input.name,
    status: () => s.status,
    soloPassKind: () => (s.initialSyncAt === null ? 'initial' : 'incremental'),
    syncs,
    syncActivities,
    verifyActivities,
    batchActivities,
    audit,
    startAfter: (s.mailboxStartAfter ??= {}),
    onAdminActivity: () => {
      s.lastAdminActivityAt = Date.now();
      dirty = true;
    },
    onMailboxesChanged: () => {
      countsStale = true;
      statusFollowsCounts = true;
    },
  });
  setHandler(mailboxCommandUpdate, (req) => mailbox.handle(req), { validator: mailbox.validate });

  const verification: VerificationContext = {
    batchId: input.batchId,
    policy,
    batchActivities,
    verifyActivities,
    rollOverDue,
  };
  /** The verification the `verify` command started, beside the main loop; Stop, Remove and Complete cancel it. */
  let verifying: { scope: CancellationScope; done: Promise<void> } | null = null;

  const startVerifying = (): void => {
    const state = s.verification!;
    const scope = new CancellationScope();
    const done = scope
      .run(() => runVerification(verification, state))
      .then(
        (outcome) => {
          // Rolled over: the state travels to the next run, which goes on from its cursor.
          if (outcome === 'done' && s.verification === state) s.verification = null;
        },
        (err: unknown) => {
          if (s.verification === state) s.verification = null;
          if (!isCancellation(err)) s.lastError = `verification stopped: ${failureMessage(err)}`;
        },
      )
      .finally(() => {
        verifying = null;
        dirty = true;
      });
    verifying = { scope, done };
  };

  const cancelVerifying = async (): Promise<void> => {
    const running = verifying;
    if (!running) return;
    running.scope.cancel();
    await running.done;
    s.verification = null;
  };

  /** The last step of Complete: every mailbox verified, then the batch is Completed. */
  const finalVerification = async (): Promise<void> => {
    const state = s.verification!;
    let outcome: 'done' | 'rolledOver' = 'done';
    try {
      outcome = await runVerification(verification, state);
    } catch (err) {
      s.lastError = `verification stopped: ${failureMessage(err)}`;
    }
    if (outcome === 'rolledOver') return rollOver();
    s.verification = null;
    setStatus('Completed');
  };

  const setStatus = (status: BatchStatus): void => {
    s.status = status;
    s.statusSince = Date.now();
    dirty = true;
    reports.statusChanged(status);
  };

  const describe = (): void => {
    const deadline = nextDeadline(s, policy);
    const lines = [
      `**${STATUS_LABELS[s.status]}** · ${s.counts.synced}/${s.counts.total} synced, ${s.counts.failed} failed`,
    ];
    if (s.pass) lines.push(`${s.pass.kind} pass: ${s.pass.finished}/${s.pass.scheduled} mailboxes done`);
    if (s.verification) lines.push(`verification: ${s.verification.finished} mailboxes verified`);
    if (deadline && s.pass === null)
      lines.push(`waiting for ${deadline.summary} at ${new Date(deadline.at).toISOString()}`);
    if (s.lastError) lines.push(`last error: ${s.lastError}`);
    setCurrentDetails(lines.join('\n\n'));
  };

  /** The entry's key: its run and its place in the run's audit, the same when its activity runs again. */
  let audited = 0;
  const keyed = (entry: AuditEntry): AuditEntry => ({ ...entry, key: `${workflowInfo().runId}:${audited++}` });

  /** The row `settlePass` published, status included, until the flush after it (SETTLE_AT_ONCE_PATCH). */
  let publishedBySettling: string | null = null;

  const flush = async (): Promise<void> => {
    if (countsStale) {
      countsStale = false;
      s.counts = await batchActivities.refreshCounts(input.batchId);
      if (statusFollowsCounts) {
        statusFollowsCounts = false;
        settleSyncedStatus();
      }
    }
    const auditing = audit.length > 0 ? batchActivities.recordAudit(audit.splice(0).map(keyed)) : undefined;
    // Before the patch the status waited for the audit entries; since, the two are written at once.
    if (!bookkeepingAtOnce) await auditing;
    if (!dirty) return auditing;
    dirty = false;
    if (input.searchAttributes) {
      upsertSearchAttributes([
        { key: batchNameAttribute, value: input.name },
        { key: batchStatusAttribute, value: s.status },
      ]);
    }
    const record = publishable();
    const settledAlready = publishedBySettling === JSON.stringify(record);
    publishedBySettling = null;
    if (settledAlready) return auditing;
    await Promise.all([auditing, batchActivities.publishBatchStatus(record)]);
  };

  /** The batch's row in the read model as the workflow has it now. */
  const publishable = (): BatchStatusRecord => ({ ...statusRecord(), status: s.status });

  /** The batch's row in the read model, but for its status. */
  const statusRecord = (): Omit<BatchStatusRecord, 'status'> => ({
    batchId: input.batchId,
    ...scheduleFields(s),
    lastError: s.lastError,
  });

  const settleSyncedStatus = (): void => {
    if (s.pass !== null || (s.status !== 'Synced' && s.status !== 'SyncedWithErrors')) return;
    const next = s.counts.failed > 0 ? 'SyncedWithErrors' : 'Synced';
    if (next !== s.status) setStatus(next);
  };

  /** The first page of the pass just begun, being read (see FIRST_PAGE_AT_ONCE_PATCH); for that pass alone. */
  let firstPage: { pass: PassState; ids: Promise<string[]> } | null = null;
  const beginPass = (kind: PassKind): void => {
    s.pass = { kind, startedAt: Date.now(), cursor: null, scheduled: 0, finished: 0 };
    setStatus(kind === 'final' ? 'Completing' : 'Syncing');
    if (!firstPageAtOnce) return;
    const ids = readPage(batchActivities, input.batchId, s.pass, null, policy);
    // A pass stopped before it ran never reads its page; the read's failure must not fail the workflow task.
    ids.catch(() => undefined);
    firstPage = { pass: s.pass, ids };
  };

  const applyEdit = async (edit: BatchEdit): Promise<void> => {
    if (edit.startAfter !== undefined) s.startAfter = parseTime(edit.startAfter);
    if (edit.completeAfter !== undefined) s.completeAfter = parseTime(edit.completeAfter);
    if (edit.autoComplete !== undefined) s.autoComplete = edit.autoComplete;
    if (s.endpoints && (edit.sourceEndpointId || edit.destinationEndpointId)) {
      s.endpoints = {
        sourceEndpointId: edit.sourceEndpointId ?? s.endpoints.sourceEndpointId,
        destinationEndpointId: edit.destinationEndpointId ?? s.endpoints.destinationEndpointId,
      };
    }
    dirty = true;
    reports.edited(edit);
    try {
      await batchActivities.applyEdit({ batchId: input.batchId, edit });
    } catch (err) {
      s.lastError = `edit not applied: ${failureMessage(err)}`;
    }
  };

  /** Applies one queued command. The status may have moved since it was received, so it is checked again. */
  const apply = async (cmd: QueuedCommand): Promise<void> => {
    if (!isCommandAllowed(s.status, cmd.command)) {
      record(cmd, 'rejected', s.status);
      return;
    }
    record(cmd, 'accepted', s.status);
    s.lastAdminActivityAt = Date.now();
    switch (cmd.command) {
      case 'start':
      case 'resume':
        s.retryFailed = cmd.command === 'resume';
        s.lastError = null;
        setStatus(s.startAfter !== null && s.startAfter > Date.now() ? 'Queued' : 'Starting');
        break;
      case 'stop':
        setStatus(s.status === 'Queued' ? 'Stopped' : 'Stopping');
        break;
      case 'complete':
        await cancelVerifying();
        beginPass('final');
        break;
      case 'edit':
        await applyEdit(cmd.edit ?? {});
        break;
      case 'remove':
        setStatus('Removing');
        break;
      case 'syncNow':
        // Since the patch a settled batch begins the pass at once, its status written with the command's audit
        // entry; before, the pass waited for the next turn of the main loop (its deadline, now).
        if (bookkeepingAtOnce && (s.status === 'Synced' || s.status === 'SyncedWithErrors')) beginPass('incremental');
        else s.nextIncrementalAt = Date.now();
        break;
      case 'verify':
        if (patched('batch-verify') && !s.verification) {
          s.verification = newVerification(cmd.deep === true, false, Date.now());
          startVerifying();
        }
        break;
    }
  };

  /**
   * Applies queued commands in order. Unless an update waits for them, it stops once the history is due to roll
   * over: the rest stay queued and travel to the next run with the state.
   */
  const drainInbox = async (untilRollOver = true): Promise<void> => {
    for (let cmd = s.inbox.shift(); cmd; cmd = s.inbox.shift()) {
      await apply(cmd);
      s.processedSeq = cmd.seq;
      if (untilRollOver && rollOverDue()) break;
    }
  };

  /** Every handler has finished and no mailbox syncs on its own: the run may end. */
  const settled = () => allHandlersFinished() && mailbox.idle() && verifying === null;

  const rollOver = async (): Promise<never> => {
    // An update handler waits for its command to be applied, and every handler must finish before the run ends.
    for (;;) {
      await flush();
      if (settled()) break;
      await drainInbox(false);
      await condition(() => settled() || s.inbox.length > 0 || audit.length > 0 || countsStale);
    }
    s.runs++;
    return continueAsNew<typeof batchWorkflow>({ ...input, carried: s });
  };

  /** Runs (or resumes) the current pass while still taking commands; Stop cancels it. */
  const runCurrentPass = async (): Promise<void> => {
    const pass = s.pass!;
    const prefetched = firstPage?.pass === pass ? firstPage.ids : undefined;
    firstPage = null;
    const scope = new CancellationScope();
    let outcome: 'done' | 'rolledOver' | 'cancelled' | { error: unknown } | undefined;
    const running = scope
      .run(() =>
        runPass({
          batchId: input.batchId,
          pass,
          policy,
          batchActivities,
          syncActivities,
          rollOverDue,
          syncs,
          skip: mailbox.skip,
          firstPage: prefetched,
          countsReadBySettling: settleAtOnce && pass.kind !== 'final',
          onCounts: (counts) => {
            s.counts = counts;
            describe();
          },
        }),
      )
      .then(
        (result) => {
          outcome = result;
        },
        (error: unknown) => {
          outcome = isCancellation(error) ? 'cancelled' : { error };
        },
      );
    while (outcome === undefined) {
      await condition(() => outcome !== undefined || s.inbox.length > 0 || audit.length > 0);
      await drainInbox();
      if (s.status === 'Stopping') scope.cancel();
      describe();
      await flush();
    }
    await running;
    if (outcome === 'rolledOver') return rollOver();
    if (outcome === 'cancelled') return;
    // A Stop taken in the same activation as the pass's last result: the stop wins (before the patch the pass
    // settled the batch as Synced over it, and the accepted Stop was lost).
    if (s.status === 'Stopping' && patched(STOP_AT_PASS_END_PATCH)) return;
    if (outcome !== 'done') {
      s.lastError = failureMessage(outcome.error);
      s.pass = null;
      setStatus('Failed');
      return;
    }
    // A verification the command started gives way to the one that ends Complete.
    if (pass.kind === 'final') await cancelVerifying();
    await finishPass(pass.kind);
  };

  const finishPass = async (kind: PassKind): Promise<void> => {
    const now = Date.now();
    s.pass = null;
    s.lastSyncedAt = now;
    if (kind === 'final') {
      // The last step of Complete: verify every mailbox, then Completed (the main loop runs it).
      if (patched('batch-verify')) s.verification = newVerification(false, true, now);
      else setStatus('Completed');
      return;
    }
    if (s.initialSyncAt === null) {
      s.initialSyncAt = now;
      s.initialSyncDurationMs = now - (s.startedAt ?? now);
    }
    s.nextIncrementalAt = now + policy.incrementalSyncIntervalMs;
    let status = settledStatus(s.counts);
    if (settleAtOnce) {
      const settled = await batchActivities.settlePass(statusRecord());
      s.counts = settled.counts;
      status = settled.status;
    }
    setStatus(status);
    if (status === 'Failed') s.lastError = ALL_MAILBOXES_FAILED;
    // The row now says what the batch is: the next flush has nothing to publish unless something changes.
    if (settleAtOnce) publishedBySettling = JSON.stringify(publishable());
    if (status !== 'Failed' && (s.autoComplete || (s.completeAfter !== null && s.completeAfter <= now))) {
      beginPass('final');
    }
  };

  const starting = async (): Promise<void> => {
    try {
      s.counts = await batchActivities.prepareStart({ batchId: input.batchId, retryFailed: s.retryFailed });
    } catch (err) {
      s.lastError = failureMessage(err);
      setStatus('Failed');
      return;
    }
    s.retryFailed = false;
    s.startedAt ??= Date.now();
    beginPass('initial');
  };

  /** Cancels the syncs that mailbox commands started, and waits for them to end. */
  const cancelLoneSyncs = async (): Promise<void> => {
    await syncs.cancelAll();
    await condition(mailbox.idle);
  };

  const stopping = async (): Promise<void> => {
    await cancelVerifying();
    await cancelLoneSyncs();
    s.pass = null;
    s.counts = await batchActivities.markMailboxesStopped(input.batchId);
    setStatus('Stopped');
  };

  /** Waits for a command, a history roll-over, or the status's next deadline (timer), and acts on it. */
  const idle = async (): Promise<void> => {
    const deadline = nextDeadline(s, policy);
    const woken = () => s.inbox.length > 0 || audit.length > 0 || countsStale || rollOverDue();
    if (deadline === null) {
      await condition(woken);
      return;
    }
    const remaining = deadline.at - Date.now();
    if (remaining > 0 && (await condition(woken, remaining, { summary: deadline.summary }))) return;
    switch (deadline.action) {
      case 'start':
        setStatus('Starting');
        break;
      case 'incremental':
        beginPass('incremental');
        break;
      case 'complete':
        await cancelVerifying();
        beginPass('final');
        break;
      case 'autoStop':
        record({ command: 'stop', by: POLICY_ACTOR }, 'accepted', s.status);
        setStatus('Stopping');
        break;
      case 'remove':
        record({ command: 'remove', by: POLICY_ACTOR }, 'accepted', s.status);
        setStatus('Removing');
        break;
      case 'startMailboxes':
        mailbox.startDue();
        break;
    }
  };

  if (input.carried === undefined) {
    s.counts = await batchActivities.refreshCounts(input.batchId);
    if (input.autoStart) receive({ command: 'start', by: input.createdBy });
  }
  if (s.verification && !s.verification.final) startVerifying();

  for (;;) {
    await drainInbox();
    describe();
    await flush();
    if (rollOverDue() && s.pass === null) await rollOver();
    switch (s.status) {
      case 'Starting':
        await starting();
        break;
      case 'Syncing':
      case 'Completing':
        if (s.verification?.final) {
          await finalVerification();
          break;
        }
        if (s.pass === null) beginPass(s.status === 'Completing' ? 'final' : 'initial');
        await runCurrentPass();
        break;
      case 'Stopping':
        await stopping();
        break;
      case 'Removing':
        await cancelVerifying();
        await cancelLoneSyncs();
        await batchActivities.removeBatch(input.batchId);
        await condition(allHandlersFinished);
        return;
      default:
        await idle();
    }
  }
}

function failureMessage(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
