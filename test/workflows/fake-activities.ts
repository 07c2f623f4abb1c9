import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { AuditEntry, BatchStatusRecord, MailboxFailure } from '../../activities/batch-activities';
import type { MailboxGuard } from '../../db/mailbox-commands';
import type { BatchEdit, MailboxCounts, PassKind } from '../../domain/batch-messages';
import type { ReportRequest } from '../../domain/batch-reports';
import { ALL_MAILBOXES_FAILED, settledStatus, type MailboxStatus } from '../../domain/batch-status';
import type { MailboxOverrides } from '../../domain/mailbox-commands';
import type {
  BatchActivities,
  MailboxCommandActivities,
  ReportActivities,
  SyncActivities,
  SyncMailboxInput,
  VerifyActivities,
  VerifyMailboxInput,
} from '../../workflows/activity-types';

type FakeStatus = 'Queued' | 'Syncing' | 'Synced' | 'Failed' | 'Stopped' | 'Completed';

/**
 * In-memory stand-ins for the batch activities, for workflow unit tests only (the end-to-end tests use the
 * real ones). `hold(name)` makes the named activity wait until `release(name)`, which pins the batch in a
 * transitional status (Starting, Stopping, Completing, Removing) long enough to test commands there.
 */
export class FakeActivities {
  readonly mailboxes = new Map<string, FakeStatus>();
  readonly published: BatchStatusRecord[] = [];
  readonly audit: AuditEntry[] = [];
  readonly syncCalls: SyncMailboxInput[] = [];
  /** Every call of verifyMailbox; `verifyMailbox` (hold/release) pins a verification under way. */
  readonly verifyCalls: VerifyMailboxInput[] = [];
  readonly failing = new Set<string>();
  readonly edits: BatchEdit[] = [];
  readonly overrides: { mailboxId: string; overrides: MailboxOverrides }[] = [];
  /** Mailboxes whose sync waits (heartbeating, cancellable) until `release('sync:<id>')`. */
  readonly held = new Set<string>();
  /** Every call of sendBatchReport, retries included; `reportFailures` makes the next that many fail. */
  readonly reportCalls: ReportRequest[] = [];
  reportFailures = 0;
  removed = false;
  private readonly gates = new Map<string, { promise: Promise<void>; open: () => void }>();

  constructor(mailboxCount: number) {
    for (let i = 1; i <= mailboxCount; i++) this.mailboxes.set(String(i), 'Queued');
  }

  hold(name: string): void {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gates.set(name, { promise, open });
  }

  releaseAll(): void {
    for (const name of [...this.gates.keys()]) this.release(name);
  }

  release(name: string): void {
    this.gates.get(name)?.open();
    this.gates.delete(name);
  }

  private async gate(name: string): Promise<void> {
    await this.gates.get(name)?.promise;
  }

  counts(): MailboxCounts {
    const all = [...this.mailboxes.values()];
    const n = (...s: FakeStatus[]) => all.filter((x) => s.includes(x)).length;
    return {
      total: all.length,
      queued: n('Queued'),
      syncing: n('Syncing'),
      synced: n('Synced', 'Completed'),
      failed: n('Failed'),
      stopped: n('Stopped'),
      finalized: n('Completed'),
    };
  }

  batch(): BatchActivities {
    const visits: Record<PassKind, FakeStatus[]> = {
      initial: ['Queued', 'Syncing', 'Synced'],
      incremental: ['Queued', 'Synced', 'Syncing'],
      final: ['Queued', 'Synced', 'Syncing'],
    };
    return {
      publishBatchStatus: async (record) => {
        this.published.push(record);
      },
      recordAudit: async (entries) => {
        // As the real one: an entry recorded again under its key is not added twice.
        const seen = new Set(this.audit.map((e) => e.key));
        this.audit.push(...entries.filter((e) => e.key === undefined || !seen.has(e.key)));
      },
      prepareStart: async ({ retryFailed }) => {
        await this.gate('prepareStart');
        for (const [id, status] of this.mailboxes) {
          if (status === 'Stopped' || status === 'Syncing' || (retryFailed && status === 'Failed')) {
            this.mailboxes.set(id, 'Queued');
          }
        }
        return this.counts();
      },
      nextMailboxes: async ({ pass, afterId, limit }) =>
        [...this.mailboxes]
          .filter(([id, status]) => visits[pass].includes(status) && Number(id) > Number(afterId ?? 0))
          .map(([id]) => id)
          .slice(0, limit),
      nextVerifiableMailboxes: async ({ afterId, limit }) =>
        [...this.mailboxes]
          .filter(
            ([id, status]) => ['Synced', 'Completed', 'Stopped'].includes(status) && Number(id) > Number(afterId ?? 0),
          )
          .map(([id]) => id)
          .slice(0, limit),
      refreshCounts: async () => this.counts(),
      settlePass: async (record) => {
        const counts = this.counts();
        const status = settledStatus(counts);
        this.published.push({
          ...record,
          status,
          lastError: status === 'Failed' ? ALL_MAILBOXES_FAILED : record.lastError,
        });
        return { counts, status };
      },
      markMailboxesFailed: async (failures: MailboxFailure[]) => {
        for (const f of failures) this.mailboxes.set(f.mailboxId, 'Failed');
      },
      markMailboxesStopped: async () => {
        await this.gate('markMailboxesStopped');
        for (const [id, status] of this.mailboxes) {
          if (status === 'Queued' || status === 'Syncing') this.mailboxes.set(id, 'Stopped');
        }
        return this.counts();
      },
      applyEdit: async ({ edit }) => {
        this.edits.push(edit);
      },
      removeBatch: async () => {
        await this.gate('removeBatch');
        this.removed = true;
      },
    };
  }

  sync(): SyncActivities {
    return {
      syncMailbox: async (input) => {
        this.syncCalls.push(input);
        await this.gate('syncMailbox');
        if (this.held.has(input.mailboxId)) await this.heldSync(input.mailboxId);
        if (this.failing.has(input.mailboxId)) {
          this.mailboxes.set(input.mailboxId, 'Failed');
          return { mailboxId: input.mailboxId, status: 'Failed', errorCode: 'AUTH_FAILED', error: 'wrong password' };
        }
        const status = input.pass === 'final' ? 'Completed' : 'Synced';
        this.mailboxes.set(input.mailboxId, status);
        return { mailboxId: input.mailboxId, status };
      },
    };
  }

  /** A held sync: heartbeats until released, and acknowledges a cancellation as a real sync does. */
  private async heldSync(mailboxId: string): Promise<void> {
    this.hold(`sync:${mailboxId}`);
    this.mailboxes.set(mailboxId, 'Syncing');
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 100);
    try {
      await Promise.race([this.gate(`sync:${mailboxId}`), ctx.cancelled]);
    } catch {
      throw new CancelledFailure('sync cancelled');
    } finally {
      clearInterval(beat);
    }
  }

  mailbox(): MailboxCommandActivities {
    const change = async (guard: MailboxGuard, to: FakeStatus | 'gone' | 'same') => {
      const before = (this.mailboxes.get(guard.mailboxId) ?? null) as MailboxStatus | null;
      if (before === null || !guard.from.includes(before)) return { before, applied: false };
      if (to === 'gone') this.mailboxes.delete(guard.mailboxId);
      else if (to !== 'same') this.mailboxes.set(guard.mailboxId, to);
      return { before, applied: true };
    };
    return {
      checkMailbox: (g) => change(g, 'same'),
      stopMailbox: (g) => change(g, 'Stopped'),
      requeueMailbox: (g) => change(g, 'Queued'),
      removeMailbox: (g) => change(g, 'gone'),
      moveMailbox: (g) => change(g, 'gone'),
      setMailboxOverrides: async (g) => {
        const result = await change(g, 'same');
        if (result.applied) this.overrides.push({ mailboxId: g.mailboxId, overrides: g.overrides });
        return result;
      },
    };
  }

  verify(): VerifyActivities {
    return {
      verifyMailbox: async (input) => {
        this.verifyCalls.push(input);
        const ctx = Context.current();
        const beat = setInterval(() => ctx.heartbeat(), 100);
        try {
          await Promise.race([this.gate('verifyMailbox'), ctx.cancelled]);
        } catch {
          throw new CancelledFailure('verification cancelled');
        } finally {
          clearInterval(beat);
        }
        return { mailboxId: input.mailboxId, grade: 'Perfect' };
      },
    };
  }

  reports(): ReportActivities {
    return {
      sendBatchReport: async ({ batchId: _batchId, ...report }) => {
        this.reportCalls.push(report);
        await this.gate('sendBatchReport');
        if (this.reportFailures > 0) {
          this.reportFailures--;
          throw new Error('550 5.1.1 recipient rejected');
        }
        return 'sent';
      },
    };
  }

  activities(): BatchActivities & SyncActivities & MailboxCommandActivities & ReportActivities & VerifyActivities {
    return { ...this.batch(), ...this.sync(), ...this.mailbox(), ...this.reports(), ...this.verify() };
  }
}
