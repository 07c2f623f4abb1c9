/**
 * The real-IMAP mode of `npm run bench:scale -- --imap`: the product exactly as `npm start` runs it (its own
 * process, embedded PostgreSQL, Temporal dev server, worker and API at their default sizes), two Dovecot servers
 * with Dovecot's default `mail_fsync`, and one batch driven through the HTTP API from Start to Synced. Measures
 * what an admin sees and what an SRE sizes: wall time, mailboxes/s, messages/s and MB/s, the API's answer times
 * while the batch runs (p50/p99/max of health and the batch list), the peak memory of each process, and the
 * peak number of PostgreSQL connections. Every message is compared on both servers before the time counts.
 * The product runs compiled, as `npm start` runs it (scripts/build.sh first).
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { buildMessage, comparableMessages, startDovecot, type DovecotServer } from '../test/fixtures/dovecot';
import { processTree, startRealProduct, waitForPass, type RunningProduct } from './product-driver';

export interface ImapScaleProfile {
  mailboxes: number;
  messagesPerMailbox: number;
  /** Dovecot's `mail_fsync` on both servers: 'optimized' is its default, as users run it. */
  fsync: 'optimized' | 'never';
}

/** Deterministic message sizes: mostly small mail, a tenth with a 60 KB attachment, one in a hundred of 600 KB. */
function messageSize(i: number): number | undefined {
  if (i % 100 === 99) return 600_000;
  if (i % 10 === 9) return 60_000;
  return undefined;
}

/**
 * Memory of a process tree, by program: the product itself, PostgreSQL (all its backends), Temporal. PSS, the
 * resident set with each shared page split among the processes that map it: summing PostgreSQL's backends by RSS
 * would count its shared buffers once per backend.
 */
async function rssByProgram(rootPid: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let rootRss = 0;
  for (const { pid, program } of await processTree(rootPid)) {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    const bytes = (name: string) => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
    out[program] = (out[program] ?? 0) + bytes('Pss');
    if (pid === rootPid) rootRss = bytes('Rss');
  }
  out['mailferry RSS'] = rootRss;
  return out;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runImapScale(profile: ImapScaleProfile): Promise<string> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-bench-imap-'));
  const users = Array.from({ length: profile.mailboxes }, (_, i) => `user${i}@bench.example`);
  const master = { user: 'migrator', password: 'bench-master-pw' };
  // Dovecot's own default fsync policy (optimized) unless asked otherwise: the fixture turns it off for tests.
  const asUsersRunIt = `mail_fsync = ${profile.fsync}`;
  let source: DovecotServer | undefined;
  let destination: DovecotServer | undefined;
  let product: RunningProduct | undefined;
  try {
    [source, destination] = await Promise.all([
      startDovecot({ users: users.map((user) => ({ user, password: `pw-${user}` })), extraConfig: asUsersRunIt }),
      startDovecot({
        masterUser: master,
        users: users.map((user) => ({ user, password: 'unused' })),
        extraConfig: asUsersRunIt,
      }),
    ]);
    let bytes = 0;
    for (const [u, user] of users.entries()) {
      const messages = Array.from({ length: profile.messagesPerMailbox }, (_, n) => {
        const raw = buildMessage({ subject: `${user} message ${n}`, size: messageSize(u + n) });
        bytes += raw.length;
        return { folder: ['INBOX', 'Archive', 'Sent', 'Projects'][n % 4]!, raw, flags: n % 3 ? ['\\Seen'] : [] };
      });
      await source.writeMaildir(user, messages);
    }
    product = await startRealProduct(dataDir);
    const { url, token } = product;
    const call = product.call;
    const src = await call('POST', '/endpoints', {
      name: 'bench source',
      type: 'imap',
      host: source.host,
      port: source.port,
      security: 'none',
    });
    const dst = await call('POST', '/endpoints', {
      name: 'bench destination',
      type: 'imap',
      host: destination.host,
      port: destination.port,
      security: 'none',
      adminUser: master.user,
      adminPassword: master.password,
      testMailbox: { userName: users[0] },
    });
    const csv = ['EmailAddress,UserName,Password', ...users.map((u) => `${u},${u},pw-${u}`)].join('\n');
    const batch = await call('POST', '/batches', {
      name: 'bench',
      sourceEndpointId: src.id,
      destinationEndpointId: dst.id,
      csv,
    });

    // Samplers: the API's answer times, memory per program, PostgreSQL connections.
    // Idle: after start-up, before the batch runs, the process settled for a few seconds.
    await new Promise((r) => setTimeout(r, 5000));
    const idleRss = (await rssByProgram(product.product.child.pid!))['mailferry RSS'] ?? 0;
    const latencies: number[] = [];
    const peakRss: Record<string, number> = {};
    let peakConnections = 0;
    const pg = new Client({ connectionString: product.postgresUrl });
    pg.on('error', () => undefined); // the product's PostgreSQL stops under it at the end
    await pg.connect();
    let sampling = true;
    const apiProbe = (async () => {
      while (sampling) {
        for (const route of ['/health', '/batches']) {
          const started = performance.now();
          await fetch(url + route, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.arrayBuffer());
          latencies.push(performance.now() - started);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const resourceProbe = (async () => {
      while (sampling) {
        for (const [program, rss] of Object.entries(await rssByProgram(product!.product.child.pid!)))
          peakRss[program] = Math.max(peakRss[program] ?? 0, rss);
        const { rows } = await pg.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity where datname = 'mailferry' and pid <> pg_backend_pid()`,
        );
        peakConnections = Math.max(peakConnections, rows[0]!.n);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();

    const started = performance.now();
    await call('POST', `/batches/${batch.id}/start`);
    const last = await waitForPass(product, batch, null, 250);
    const seconds = (performance.now() - started) / 1000;
    sampling = false;
    await Promise.all([apiProbe, resourceProbe]);
    // How the wall time splits: waiting to be scheduled, and the syncs themselves.
    const { rows: timing } = await pg.query<{ first: number; last: number; p50: number; p90: number }>(
      `select extract(epoch from min(m.started_at) - b.started_at)::float as first,
              extract(epoch from max(m.started_at) - b.started_at)::float as last,
              percentile_cont(0.5) within group (order by m.initial_sync_duration_ms)::float / 1000 as p50,
              percentile_cont(0.9) within group (order by m.initial_sync_duration_ms)::float / 1000 as p90
         from mailboxes m join batches b on b.id = m.batch_id where b.id = $1 group by b.started_at`,
      [batch.id],
    );
    await pg.end();
    if (last.status !== 'Synced') throw new Error(`the batch ended ${last.status}: ${JSON.stringify(last)}`);

    // Byte for byte, every message once, before the time counts.
    for (const user of users) {
      const from = comparableMessages(await source.readMailbox(user), source);
      const to = comparableMessages(await destination.readMailbox(user), destination);
      if (JSON.stringify(from) !== JSON.stringify(to))
        throw new Error(`${user}: the destination differs from the source`);
    }
    const messages = profile.mailboxes * profile.messagesPerMailbox;
    const sorted = latencies.sort((a, b) => a - b);
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
    return [
      `profile                  ${profile.mailboxes} mailboxes × ${profile.messagesPerMailbox} messages (${mb(bytes)}), real IMAP, mail_fsync=${profile.fsync}`,
      `API Start → Synced       ${seconds.toFixed(1)} s: ${(profile.mailboxes / seconds).toFixed(1)} mailboxes/s, ${(messages / seconds).toFixed(0)} messages/s, ${(bytes / 1024 / 1024 / seconds).toFixed(1)} MB/s`,
      `per mailbox              first sync began ${timing[0]!.first.toFixed(1)} s after Start, last ${timing[0]!.last.toFixed(1)} s; one sync p50 ${timing[0]!.p50.toFixed(1)} s, p90 ${timing[0]!.p90.toFixed(1)} s`,
      `verified                 ${messages} messages byte for byte on both servers, each once`,
      `API answer times         p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms (${sorted.length} calls to /health and /batches)`,
      `peak memory (PSS)        ${Object.entries(peakRss)
        .filter(([program]) => program !== 'mailferry RSS')
        .map(([program, rss]) => `${program} ${mb(rss)}`)
        .join(', ')}`,
      `mailferry process RSS    idle ${mb(idleRss)} before Start, peak ${mb(peakRss['mailferry RSS'] ?? 0)} while it ran`,
      `PostgreSQL connections   peak ${peakConnections} (worker pool 30 + lock connection 1 + API pool 10 at most)`,
    ].join('\n');
  } finally {
    await product?.stop();
    await Promise.allSettled([source?.close(), destination?.close()]);
    await rm(dataDir, { recursive: true, force: true });
  }
}
