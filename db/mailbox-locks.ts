import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { MailboxLockError, type MailboxLock, type MailboxLocks } from '../imap/mailbox-lock';
import { boundedConnectionConfig } from './pool';

export { MailboxLockError, type MailboxLock, type MailboxLocks };

/** Advisory-lock key space of mailbox syncs (the high bits), so it cannot meet other users of advisory locks. */
const MAILBOX_LOCK_SPACE = 0x6d66n << 48n;

/** The advisory-lock key of one mailbox's sync. */
export function mailboxLockKey(mailboxId: string): string {
  return (MAILBOX_LOCK_SPACE | BigInt(mailboxId)).toString();
}

/** The dedicated connection, with its statements run one after another (pg's own queueing is deprecated). */
interface LockSession {
  client: Client;
  query<R extends object>(sql: string, params?: unknown[]): Promise<R[]>;
}

function lockSession(client: Client): LockSession {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    client,
    query<R extends object>(sql: string, params?: unknown[]) {
      const run = tail.then(() => client.query<R>(sql, params)).then((r) => r.rows);
      tail = run.catch(() => undefined);
      return run;
    },
  };
}

interface Held {
  controller: AbortController;
  session: LockSession;
}

/**
 * One sync per mailbox at a time, across every worker process, without pinning a pooled connection: each process
 * holds all its mailbox locks as session-level advisory locks on one dedicated connection outside its pools.
 * A killed process's locks end with its socket at once (a restarted worker resumes without waiting out a lease);
 * two attempts in one process exclude each other in memory (session locks are re-entrant). When the lock
 * connection drops, every lock it held is reported lost, and the next acquire opens a new connection. A probe
 * while locks are held notices a connection that went silent.
 */
export function createMailboxLocks(
  connectionString: string,
  options: { probeIntervalMs?: number; pollMs?: number } = {},
): MailboxLocks {
  const probeIntervalMs = options.probeIntervalMs ?? 10_000;
  const pollMs = options.pollMs ?? 500;
  const held = new Map<string, Held>();
  let current: Promise<LockSession> | null = null;
  let closed = false;

  const drop = (session: LockSession, reason: string) => {
    void session.client.end().catch(() => undefined);
    for (const [id, h] of held) {
      if (h.session !== session) continue;
      held.delete(id);
      h.controller.abort(new Error(`lost the lock of mailbox ${id}: ${reason}`));
    }
  };

  const connection = (): Promise<LockSession> => {
    if (closed) return Promise.reject(new Error('mailbox locks are closed'));
    if (current) return current;
    const client = new Client(boundedConnectionConfig(connectionString, 'locks', { statementTimeoutMs: 10_000 }));
    const session = lockSession(client);
    const forget = (reason: string) => {
      if (current === opening) current = null;
      clearInterval(probe);
      drop(session, reason);
    };
    client.on('error', (err) => forget(err.message));
    client.on('end', () => forget('the lock connection closed'));
    const probe = setInterval(() => {
      if (![...held.values()].some((h) => h.session === session)) return;
      session.query('select 1').catch((err: Error) => forget(`the lock connection stopped answering (${err.message})`));
    }, probeIntervalMs);
    probe.unref();
    const opening = client.connect().then(
      () => session,
      (err: unknown) => {
        forget(String((err as Error)?.message ?? err));
        throw err;
      },
    );
    current = opening;
    return opening;
  };

  return {
    async acquire(mailboxId, { waitMs, signal, onWait }) {
      const key = mailboxLockKey(mailboxId);
      const deadline = Date.now() + waitMs;
      for (;;) {
        if (signal?.aborted) throw new MailboxLockError('CANCELLED', 'cancelled while waiting for the mailbox lock');
        if (!held.has(mailboxId)) {
          const session = await connection();
          const entry: Held = { controller: new AbortController(), session };
          held.set(mailboxId, entry); // claimed in memory first: a concurrent attempt here sees it as busy
          let ok = false;
          try {
            const rows = await session.query<{ ok: boolean }>('select pg_try_advisory_lock($1::bigint) as ok', [key]);
            ok = rows[0]?.ok === true;
          } finally {
            if (!ok && held.get(mailboxId) === entry) held.delete(mailboxId);
          }
          if (ok) {
            return {
              lost: entry.controller.signal,
              async release() {
                if (held.get(mailboxId) !== entry) return; // lost already: the session that held it is gone
                held.delete(mailboxId);
                await session.query('select pg_advisory_unlock($1::bigint)', [key]).catch(() => {
                  drop(session, 'unlock failed'); // the session (and its locks) ends with the connection
                });
              },
            };
          }
        }
        if (Date.now() >= deadline) {
          throw new MailboxLockError('MAILBOX_BUSY', 'another sync of this mailbox is still running');
        }
        onWait?.();
        await sleep(pollMs, undefined, { signal }).catch(() => undefined); // an abort ends the wait: see the loop's top
      }
    },
    held: () => [...held.keys()],
    async close() {
      closed = true;
      const open = current;
      current = null;
      const session = await open?.catch(() => null);
      if (session) drop(session, 'closed');
    },
  };
}
