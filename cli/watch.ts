import { MultiBar, type SingleBar } from 'cli-progress';
import { CliError, type ApiClient } from './client';
import { enc, type Context } from './context';
import { bytes, colourStatus, duration, type Colors } from './output';

/**
 * `batches watch`: polls `GET /batches/{id}` and the running part of the migration users report
 * (`GET /batches/{id}/mailboxes?status=Syncing`) until the batch settles. On a terminal it draws progress bars
 * (cli-progress); otherwise it prints one line per poll; with --json, one JSON object per poll.
 */

/** Where a watch ends, and whether that is success (exit 0). */
const SETTLED: Record<string, boolean> = {
  Synced: true,
  Completed: true,
  SyncedWithErrors: false,
  Failed: false,
  Stopped: false,
};

/** Running mailboxes shown at most; the rest are counted. */
const MAX_ROWS = 20;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON (shapes: openapi.json BatchDetail, Mailbox)
type Json = any;

interface Poll {
  at: number;
  batch: Json;
  running: Json[];
  runningTotal: number;
}

/** Mailboxes per second since the watch began, from the synced count; null until one has finished. */
class Rate {
  private first?: { at: number; synced: number };
  observe(p: Poll): { perSecond: number | null; etaSeconds: number | null } {
    const synced = p.batch.synced + p.batch.failed;
    this.first ??= { at: p.at, synced };
    const elapsed = (p.at - this.first.at) / 1000;
    const done = synced - this.first.synced;
    if (elapsed <= 0 || done <= 0) return { perSecond: null, etaSeconds: null };
    const perSecond = done / elapsed;
    return { perSecond, etaSeconds: Math.max(0, p.batch.total - synced) / perSecond };
  }
}

function mailboxEta(m: Json): number | null {
  if (!m.itemsPerSecond || m.itemsTotal <= 0) return null;
  return Math.max(0, m.itemsTotal - m.itemsSynced) / m.itemsPerSecond;
}

const itemsRate = (m: Json) => (m.itemsPerSecond ? `${Math.round(m.itemsPerSecond)} items/s` : '- items/s');

function batchSummary(p: Poll, rate: ReturnType<Rate['observe']>, c: Colors): string {
  const b = p.batch;
  const items = p.running.reduce((n, m) => n + m.itemsSynced, 0);
  const size = p.running.reduce((n, m) => n + m.bytesSynced, 0);
  const perSecond = p.running.reduce((n, m) => n + (m.itemsPerSecond ?? 0), 0);
  return [
    `${c.bold(b.name)} ${colourStatus(c, b.statusLabel)}`,
    `synced ${b.synced}/${b.total} (${b.percentageSynced}%)`,
    `failed ${b.failed}`,
    p.runningTotal === 0
      ? 'running 0'
      : `running ${p.runningTotal}: ${items} items, ${bytes(size)}, ${Math.round(perSecond)} items/s`,
    `ETA ${duration(rate.etaSeconds)}`,
  ].join('  ');
}

function mailboxLine(m: Json): string {
  return `${m.emailAddress} ${m.itemsSynced}/${m.itemsTotal} items ${bytes(m.bytesSynced)} ${itemsRate(m)} ETA ${duration(mailboxEta(m))}`;
}

async function poll(api: ApiClient, id: string): Promise<Poll> {
  const [batch, running] = await Promise.all([
    api.request('GET', `/batches/${enc(id)}`),
    api.request('GET', `/batches/${enc(id)}/mailboxes?status=Syncing&pageSize=${MAX_ROWS}`),
  ]);
  return { at: Date.now(), batch, running: running.items, runningTotal: running.total };
}

/** Draws the live view on a terminal: the batch on top, one bar per running mailbox. */
class Bars {
  private readonly multi: MultiBar;
  private readonly top: SingleBar;
  private readonly rows = new Map<string, SingleBar>();

  constructor(stream: NodeJS.WriteStream, c: Colors) {
    this.multi = new MultiBar(
      {
        stream,
        format: `{label} ${c.cyan('{bar}')} {percentage}% {value}/{total} {unit}  {info}`,
        barsize: 20,
        hideCursor: true,
        gracefulExit: true,
        clearOnComplete: false,
        autopadding: true,
        etaBuffer: 1,
      },
      { format: '', barCompleteChar: '█', barIncompleteChar: '░' },
    );
    this.top = this.multi.create(1, 0, { label: '', unit: 'synced', info: '' });
  }

  draw(p: Poll, summary: string): void {
    const b = p.batch;
    // One width for every label, so the bars line up under each other.
    const top = `${b.name} [${b.statusLabel}]`;
    const width = Math.max(top.length, ...p.running.map((m) => m.emailAddress.length + 2));
    this.top.setTotal(Math.max(1, b.total));
    this.top.update(b.synced, { label: top.padEnd(width), unit: 'synced', info: summary });
    this.drawRows(p.running, width);
  }

  private drawRows(running: Json[], width: number): void {
    const seen = new Set<string>();
    for (const m of running) {
      seen.add(m.id);
      let bar = this.rows.get(m.id);
      if (!bar) {
        bar = this.multi.create(1, 0, { label: '', unit: 'items', info: '' });
        this.rows.set(m.id, bar);
      }
      bar.setTotal(Math.max(1, m.itemsTotal));
      bar.update(m.itemsSynced, {
        label: `  ${m.emailAddress}`.padEnd(width),
        unit: 'items',
        info: `${bytes(m.bytesSynced)}  ${itemsRate(m)}  ETA ${duration(mailboxEta(m))}${m.currentFolder ? `  ${m.currentFolder}` : ''}`,
      });
    }
    for (const [id, bar] of this.rows) {
      if (!seen.has(id)) {
        this.multi.remove(bar);
        this.rows.delete(id);
      }
    }
  }

  /** One mailbox on its own (`users watch`): its row only. */
  drawOne(m: Json): void {
    this.top.update(0, { label: `${m.emailAddress} [${m.status}]`, unit: '', info: '' });
    this.drawRows([m], m.emailAddress.length + 2);
  }

  stop(): void {
    this.multi.stop();
  }
}

export async function watchBatch(
  ctx: Context,
  ref: string,
  /** `started`: the caller has started the batch, so a first poll that still says Created is no news. */
  options: { intervalMs: number; started?: boolean },
): Promise<{ ok: boolean; message: string }> {
  const { io, colors: c } = ctx;
  const api = await ctx.api();
  // Resolve the name once: polls then use the id, so a rename or a new batch of the same name cannot mix in.
  const first = await api.request('GET', `/batches/${enc(ref)}`);
  const id: string = first.id;
  const name: string = first.name;
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const bars = io.isTTY && io.stdoutStream && ctx.format === 'table' ? new Bars(io.stdoutStream, c) : undefined;
  const rate = new Rate();
  const started = Date.now();
  let last: Poll | undefined;
  let polls = 0;
  try {
    for (;;) {
      let p: Poll;
      try {
        p = await poll(api, id);
      } catch (err) {
        if (err instanceof CliError && err.code === 'BATCH_NOT_FOUND') {
          return { ok: false, message: `batch "${name}" was removed` };
        }
        throw err;
      }
      last = p;
      const r = rate.observe(p);
      if (ctx.format === 'json') {
        io.stdout(JSON.stringify({ at: new Date(p.at).toISOString(), batch: p.batch, running: p.running }) + '\n');
      } else if (bars) {
        bars.draw(p, `failed ${p.batch.failed}  running ${p.runningTotal}  ETA ${duration(r.etaSeconds)}`);
      } else {
        const shown = p.running.slice(0, 3).map(mailboxLine);
        const more = p.runningTotal > shown.length ? [`+${p.runningTotal - shown.length} more`] : [];
        const time = new Date(p.at).toISOString().slice(11, 19);
        io.stdout(`${time} ${[batchSummary(p, r, c), ...shown, ...more].join('; ')}\n`);
      }
      if (p.batch.status === 'Created' && polls === 0 && !options.started) {
        io.stderr(`batch "${name}" is Created: waiting for a start (mailferry batches start "${name}")\n`);
      }
      polls++;
      if (p.batch.status in SETTLED) break;
      await sleep(options.intervalMs);
    }
  } finally {
    bars?.stop();
  }
  const b = last.batch;
  const took = duration((Date.now() - started) / 1000);
  const summary = `${b.synced}/${b.total} synced, ${b.failed} failed`;
  if (SETTLED[b.status]) {
    if (ctx.format !== 'json') io.stdout(`batch "${name}" is ${b.statusLabel}: ${summary} (watched ${took})\n`);
    return { ok: true, message: '' };
  }
  return { ok: false, message: `batch "${name}" ended ${b.statusLabel}: ${summary}` };
}

/** Where a user watch ends, and whether that is success (exit 0). */
const USER_SETTLED: Record<string, boolean> = { Synced: true, Completed: true, Failed: false, Stopped: false };

/**
 * `users watch`: polls `GET /mailboxes/{id}` until the mailbox settles, one line per poll (a progress bar on a
 * terminal; with --json, one JSON object per poll).
 */
export async function watchUser(
  ctx: Context,
  mailboxId: string,
  options: { intervalMs: number },
): Promise<{ ok: boolean; message: string }> {
  const { io, colors: c } = ctx;
  const api = await ctx.api();
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const bars = io.isTTY && io.stdoutStream && ctx.format === 'table' ? new Bars(io.stdoutStream, c) : undefined;
  let user: Json;
  try {
    for (;;) {
      try {
        user = await api.request('GET', `/mailboxes/${enc(mailboxId)}`);
      } catch (err) {
        if (err instanceof CliError && err.code === 'MAILBOX_NOT_FOUND') {
          return { ok: false, message: `mailbox ${mailboxId} has left its batch` };
        }
        throw err;
      }
      if (ctx.format === 'json') io.stdout(JSON.stringify({ at: new Date().toISOString(), user }) + '\n');
      else if (bars) bars.drawOne(user);
      else
        io.stdout(`${new Date().toISOString().slice(11, 19)} ${colourStatus(c, user.status)} ${mailboxLine(user)}\n`);
      if (user.status in USER_SETTLED) break;
      await sleep(options.intervalMs);
    }
  } finally {
    bars?.stop();
  }
  const summary = `${user.emailAddress} is ${user.status} in batch "${user.batch.name}": ${user.itemsSynced} items, ${bytes(user.bytesSynced)}`;
  if (USER_SETTLED[user.status]) {
    if (ctx.format !== 'json') io.stdout(`${summary}\n`);
    return { ok: true, message: '' };
  }
  return { ok: false, message: user.lastError ? `${summary} (${user.lastError})` : summary };
}
