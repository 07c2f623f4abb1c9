/**
 * One chaos round on a running deployment: a batch of fresh mailboxes, the seeded schedule of SIGKILLs and
 * restarts of every part while it syncs, each fault's time to heal, the time from the last fault to the batch
 * Synced, and a message-by-message comparison of both servers (content hash, flags, INTERNALDATE, per folder).
 */
import { buildMessage, comparableMessages, type SeedMessage } from '../fixtures/dovecot';
import { waitFor } from '../fixtures/wait-for';
import type { Deployment, Part } from './deployment';
import { faultRound, type Fault } from './schedule';

export const MASTER = { user: 'migrator', password: 'chaos-master-Pw' };
const PASSWORD = (user: string) => `src-${user.split('@')[0]}-Pw!9`;
/** A mailbox: two folders; 4,000 messages over eight mailboxes, about 16 KB each. */
const FOLDERS: [string, number][] = [
  ['INBOX', 300],
  ['Archive', 200],
];
export const MAILBOXES = 8;
const FLAGS = [[], ['\\Seen'], ['\\Seen', '\\Flagged'], ['\\Answered', '\\Seen']];

/** A part is healed when it is back and the API says everything is up, and the batch moved on since (or is done). */
export const HEAL_LIMIT_MS = 30_000;

export interface FaultResult extends Fault {
  /** Whether the batch was still syncing when the part was killed. */
  midSync: boolean;
  healMs: number;
  /** What the heal waited for last, once the part was back. */
  waitedFor: string;
}

export interface RoundResult {
  batchId: string;
  faults: FaultResult[];
  /** From the last part being back to the batch Synced. */
  lastFaultToSyncedMs: number;
  totalMs: number;
  messages: number;
}

function seedOf(user: string): SeedMessage[] {
  return FOLDERS.flatMap(([folder, n]) =>
    Array.from({ length: n }, (_, i) => ({
      folder,
      raw: buildMessage({ subject: `${user} ${folder} ${i}`, size: 16_000 }),
      flags: FLAGS[i % FLAGS.length]!,
      internalDate: new Date(Date.UTC(2023, 0, 1) + i * 3_600_000),
    })),
  );
}

/** The users of round `round`, on both servers. */
export function roundUsers(round: number): string[] {
  return Array.from({ length: MAILBOXES }, (_, i) => `r${round}-user${i}@chaos.test`);
}

interface Progress {
  status: string;
  items: number;
}

async function progressOf(d: Deployment, batchId: string): Promise<Progress> {
  const [batch, mailboxes] = await Promise.all([
    d.call('GET', `/batches/${batchId}`),
    d.call('GET', `/batches/${batchId}/mailboxes`),
  ]);
  const items = (mailboxes.items as Array<{ itemsSynced: number }>).reduce((n, m) => n + m.itemsSynced, 0);
  return { status: batch.status as string, items };
}

/** What still keeps the deployment from healed, in words (undefined: nothing). */
async function notYetHealed(d: Deployment, batchId: string, before: Progress | undefined): Promise<string | undefined> {
  const { status, body } = await d.health().catch(() => ({ status: 0, body: undefined }));
  if (status === 0) return 'the API does not answer';
  if (status !== 200) return `/health ${status}: ${body?.error?.message}`;
  if (!body.checks.workers.ok) return `/health: ${body.checks.workers.message}`;
  const down = Object.entries(body.components as Record<string, { ok: boolean }>).filter(([, c]) => !c.ok);
  if (down.length > 0) return `/health: ${down.map(([name]) => name).join(', ')} down`;
  const now = await progressOf(d, batchId);
  if (now.status === 'Failed' || now.status === 'SyncedWithErrors') throw new Error(`batch ${now.status}`);
  if (now.status === 'Synced' || before === undefined || now.items > before.items) return undefined;
  return `the batch has not moved on from ${before.items} items`;
}

/**
 * Waits until the API says every part is up and the batch has moved on from `before` (or is Synced); returns
 * what it waited for last (for the printed figures).
 */
async function healed(d: Deployment, batchId: string, before: Progress | undefined): Promise<string> {
  let last = 'nothing';
  await waitFor(
    async () => {
      const missing = await notYetHealed(d, batchId, before);
      if (missing) last = missing;
      return missing === undefined;
    },
    'the deployment healed',
    { timeoutMs: HEAL_LIMIT_MS * 2, intervalMs: 100, describe: () => last },
  );
  return last;
}

export async function runChaosRound(
  d: Deployment,
  round: number,
  random: () => number,
  log: (line: string) => void,
): Promise<RoundResult> {
  const users = roundUsers(round);
  for (const user of users) {
    await Promise.all([d.source.addUser(user, PASSWORD(user)), d.destination.addUser(user, 'unused')]);
  }
  await Promise.all(users.map((user) => d.source.writeMaildir(user, seedOf(user))));
  const src = await d.call('POST', '/endpoints', {
    name: `Chaos old ${round}`,
    type: 'imap',
    host: d.sourceAddress.host,
    port: d.sourceAddress.port,
    security: 'none',
  });
  const dst = await d.call('POST', '/endpoints', {
    name: `Chaos new ${round}`,
    type: 'imap',
    host: d.destination.host,
    port: d.destination.port,
    security: 'none',
    adminUser: MASTER.user,
    adminPassword: MASTER.password,
    testMailbox: { userName: users[0] },
  });
  const csv = ['EmailAddress,UserName,Password', ...users.map((u) => `${u},${u},${PASSWORD(u)}`)].join('\n');
  const batch = await d.call('POST', '/batches', {
    name: `Chaos round ${round}`,
    sourceEndpointId: src.id,
    destinationEndpointId: dst.id,
    csv,
  });
  const started = Date.now();
  await d.call('POST', `/batches/${batch.id}/start`);

  const byName = new Map<string, Part>(d.parts.map((p) => [p.name, p]));
  const faults: FaultResult[] = [];
  let lastBack = started;
  for (const fault of faultRound(
    random,
    d.parts.map((p) => p.name),
  )) {
    await new Promise((r) => setTimeout(r, fault.afterMs));
    const before = await progressOf(d, batch.id).catch(() => undefined);
    const midSync = before?.status !== 'Synced';
    const part = byName.get(fault.part)!;
    await part.kill();
    await new Promise((r) => setTimeout(r, fault.downMs));
    await part.start();
    lastBack = Date.now();
    const waitedFor = await healed(d, batch.id, midSync ? before : undefined);
    const healMs = Date.now() - lastBack;
    faults.push({ ...fault, midSync, healMs, waitedFor });
    log(
      `  ${fault.part}: down ${fault.downMs} ms${midSync ? ' mid-sync' : ' after the sync'}, healed in ${healMs} ms` +
        ` (last waited for: ${waitedFor})`,
    );
  }
  await waitFor(
    async () => {
      const p = await progressOf(d, batch.id);
      if (p.status === 'Failed' || p.status === 'SyncedWithErrors') throw new Error(`batch ${p.status}`);
      return p.status === 'Synced';
    },
    'the batch is Synced',
    { timeoutMs: 120_000, intervalMs: 100 },
  );
  const synced = Date.now();

  // Every source message exactly once on the destination: content hash, flags and INTERNALDATE, per folder.
  let messages = 0;
  for (const user of users) {
    const [from, to] = await Promise.all([d.source.readMailbox(user), d.destination.readMailbox(user)]);
    const expected = comparableMessages(from, d.source);
    const actual = comparableMessages(to, d.destination);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      throw new Error(`${user}: the destination differs (${actual.length} messages, ${expected.length} expected)`);
    }
    messages += expected.length;
  }
  return {
    batchId: batch.id,
    faults,
    lastFaultToSyncedMs: Math.max(0, synced - lastBack),
    totalMs: synced - started,
    messages,
  };
}
