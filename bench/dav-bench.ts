/**
 * Calendar and contact benchmark (`npm run bench:dav`): one mailbox's deterministic corpus (bench/dav-corpus.ts:
 * BENCH_EVENTS events in two calendars, BENCH_CONTACTS contacts in one address book) on a source Radicale, copied
 * to fresh users of one destination Radicale by mailferry's engine (`engine`: the dav/ sync function in a process of
 * its own, as `npm run bench` runs the IMAP engine) and by vdirsyncer (`vdirsyncer`: two caldav and two carddav
 * storages, `discover` then `sync`, its status directory fresh for each run), taking turns.
 *
 * For each tool: a full pass (vdirsyncer: discover + sync) and a no-change pass, objects/s, peak memory (max RSS of
 * the tool's process), CPU, and the HTTP requests each pass made, counted by a proxy on loopback before each server
 * (test/fixtures/delay-proxy.ts with no delay). Every copy is checked against the source: each collection's multiset of
 * ETags (Radicale's ETag is a hash of the object as it serves it) must equal the source's. Ratios are pair by pair:
 * run N of vdirsyncer ÷ run N of the tool, which ran in the same rotation.
 *
 * `floor` (bench/dav-floor-run.ts) is not a tool but the destination's limit: the same objects, read beforehand, only
 * PUT one by one (4 at once), its time the PUTs' alone. No copier that writes one object per request can beat it on
 * that server; its no-change pass is not run.
 *
 * Environment: BENCH_EVENTS (default 5000), BENCH_CONTACTS (default 5000), BENCH_TOOLS (comma list of
 * engine,vdirsyncer,floor; default engine,vdirsyncer), BENCH_REPEAT (runs per tool, reported as the median; default 3),
 * BENCH_DAV_CONCURRENCY (the engine's objects at once per collection; default the engine's), DATABASE_URL (else an
 * embedded PostgreSQL is started).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { basicAuthorization, DavClient } from '../dav/client';
import { startRadicale, type RadicaleServer } from '../test/fixtures/radicale';
import { insertDavMailbox } from '../test/dav/helpers';
import { bundleForNode, median, openBenchDatabase, timed, type BenchDatabase, type Timed } from './bench-process';
import {
  ADDRESS_BOOK,
  CALENDARS,
  collectionBody,
  generateContacts,
  generateEvents,
  type CorpusItem,
} from './dav-corpus';
import { startDelayProxy, type DelayProxy } from '../test/fixtures/delay-proxy';

const SOURCE_USER = 'bench';
const PASSWORD = 'bench-pw';
const VDIRSYNCER = path.join(__dirname, '..', '.venv', 'bin', 'vdirsyncer');

type Pass = 'full' | 'no-change';

interface Measure {
  tool: string;
  pass: Pass;
  rep: number;
  seconds: number;
  maxRssMb: number;
  cpuSeconds: number;
  requests: { source: number; destination: number };
}

/** Seeds the source: each collection in one PUT of the whole collection (Radicale stores one resource per UID). */
async function seed(source: RadicaleServer, events: number, contacts: number): Promise<number> {
  const byCollection = new Map<string, CorpusItem[]>();
  for (const item of [...generateEvents(events), ...generateContacts(contacts)]) {
    byCollection.set(item.collection, [...(byCollection.get(item.collection) ?? []), item]);
  }
  const collections = [
    ...CALENDARS.map((c) => ({ ...c, kind: 'calendar' as const })),
    { ...ADDRESS_BOOK, color: undefined, kind: 'addressbook' as const },
  ].filter((c) => byCollection.has(c.name));
  for (const c of collections) {
    await source.put(SOURCE_USER, c.name, '', collectionBody(byCollection.get(c.name)!, c.kind));
    if (c.kind === 'calendar')
      await source.setCalendarProperties(SOURCE_USER, c.name, { displayName: c.displayName, color: c.color });
  }
  return collections.length;
}

/** A user's collections (by name) with the multiset of their objects' ETags, sorted: equal lists, equal objects. */
async function fingerprint(server: RadicaleServer, user: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const name of await server.collections(user)) {
    const client = new DavClient({
      kind: 'caldav',
      url: server.url,
      side: 'destination',
      authorization: basicAuthorization(user, PASSWORD),
    });
    const etags = await client.etags(server.collectionUrl(user, name));
    out.set(name, [...etags.values()].map(String).sort());
  }
  return out;
}

/** Whether `copy` holds every source collection's objects, each once and as the source serves it. */
function sameObjects(source: Map<string, string[]>, copy: Map<string, string[]>): { objects: number; exact: boolean } {
  // vdirsyncer names its destination collections after the source's; the engine keeps the source's names too.
  let objects = 0;
  let exact = copy.size === source.size;
  for (const [name, etags] of source) {
    const there = copy.get(name) ?? [];
    objects += there.length;
    exact &&= there.join('\n') === etags.join('\n');
  }
  return { objects, exact };
}

function vdirsyncerConfig(statusDir: string, source: string, destination: string, user: string): string {
  const storage = (name: string, type: string, url: string, username: string, readOnly: boolean) =>
    [
      `[storage ${name}]`,
      `type = "${type}"`,
      `url = "${url}/"`,
      `username = "${username}"`,
      `password = "${PASSWORD}"`,
      ...(readOnly ? ['read_only = true'] : []),
      '',
    ].join('\n');
  const pair = (name: string) =>
    [
      `[pair ${name}]`,
      `a = "${name}_source"`,
      `b = "${name}_destination"`,
      'collections = ["from a"]',
      'conflict_resolution = "a wins"',
      '',
    ].join('\n');
  return [
    '[general]',
    `status_path = "${statusDir}"`,
    '',
    pair('calendars'),
    storage('calendars_source', 'caldav', source, SOURCE_USER, true),
    storage('calendars_destination', 'caldav', destination, user, false),
    pair('contacts'),
    storage('contacts_source', 'carddav', source, SOURCE_USER, true),
    storage('contacts_destination', 'carddav', destination, user, false),
  ].join('\n');
}

/** `vdirsyncer discover`, answering yes to each "create this collection on the destination?". */
function vdirsyncerDiscover(config: string): Promise<Timed> {
  return timed('sh', ['-c', `yes | "${VDIRSYNCER}" -c "${config}" discover`]);
}

async function main() {
  const events = Number(process.env.BENCH_EVENTS ?? 5000);
  const contacts = Number(process.env.BENCH_CONTACTS ?? 5000);
  const tools = (process.env.BENCH_TOOLS ?? 'engine,vdirsyncer').split(',');
  const repeats = Number(process.env.BENCH_REPEAT ?? 3);
  const concurrency = process.env.BENCH_DAV_CONCURRENCY ? Number(process.env.BENCH_DAV_CONCURRENCY) : undefined;
  const work = await mkdtemp(path.join(os.tmpdir(), 'mf-dav-bench-'));
  let db: BenchDatabase | undefined;
  let source: RadicaleServer | undefined;
  let destination: RadicaleServer | undefined;
  const proxies: DelayProxy[] = [];
  try {
    db = await openBenchDatabase(work, `mailferry_dav_bench_${process.pid}`);
    [source, destination] = await Promise.all([
      startRadicale({ users: [{ user: SOURCE_USER, password: PASSWORD }] }),
      startRadicale(),
    ]);
    const users = (tool: string, rep: number) => `${tool}-${rep}`;
    for (let rep = 1; rep <= repeats; rep++) for (const t of tools) await destination.addUser(users(t, rep), PASSWORD);
    process.stderr.write(`seeding ${events} events and ${contacts} contacts ...\n`);
    const seededAt = Date.now();
    const collections = await seed(source, events, contacts);
    const reference = await fingerprint(source, SOURCE_USER);
    const objects = [...reference.values()].reduce((n, e) => n + e.length, 0);
    process.stderr.write(`seeded ${objects} objects in ${((Date.now() - seededAt) / 1000).toFixed(1)} s\n`);
    // Every tool reaches both servers through a counting proxy: a turn of the client on an HTTP/1.1 connection is
    // a request.
    const [srcProxy, dstProxy] = (await Promise.all(
      [source, destination].map((s) => startDelayProxy({ host: '127.0.0.1', port: s.port }, 0)),
    )) as [DelayProxy, DelayProxy];
    proxies.push(srcProxy, dstProxy);
    const srcUrl = `http://${srcProxy.host}:${srcProxy.port}`;
    const dstUrl = `http://${dstProxy.host}:${dstProxy.port}`;
    const engineBundle = tools.includes('engine')
      ? await bundleForNode(path.join(__dirname, 'dav-engine-run.ts'), 'bench-dav-engine-run.js')
      : '';

    const floorBundle = tools.includes('floor')
      ? await bundleForNode(path.join(__dirname, 'dav-floor-run.ts'), 'bench-dav-floor-run.js')
      : '';

    const mailboxes = new Map<string, string>();
    const runTool = async (tool: string, user: string, pass: Pass): Promise<Omit<Timed, 'stdout' | 'stderr'>> => {
      if (tool === 'engine') {
        let mailboxId = mailboxes.get(user);
        if (!mailboxId) {
          mailboxId = await insertDavMailbox(db!.pool, `${user}@example.com`);
          mailboxes.set(user, mailboxId);
        }
        const run = {
          databaseUrl: db!.url,
          mailboxId,
          source: { url: srcUrl, user: SOURCE_USER, password: PASSWORD },
          destination: { url: dstUrl, user, password: PASSWORD },
          concurrency,
        };
        return timed(process.execPath, [engineBundle], { ...process.env, MAILFERRY_BENCH_RUN: JSON.stringify(run) });
      }
      if (tool === 'vdirsyncer') {
        const config = path.join(work, `vdirsyncer-${user}.conf`);
        if (pass === 'full') {
          const status = path.join(work, `vdirsyncer-status-${user}`);
          await rm(status, { recursive: true, force: true });
          await mkdir(status, { recursive: true });
          await writeFile(config, vdirsyncerConfig(status, srcUrl, dstUrl, user), { mode: 0o600 });
        }
        const discover = pass === 'full' ? await vdirsyncerDiscover(config) : undefined;
        const sync = await timed(VDIRSYNCER, ['-c', config, 'sync']);
        return {
          seconds: sync.seconds + (discover?.seconds ?? 0),
          maxRssMb: Math.max(sync.maxRssMb, discover?.maxRssMb ?? 0),
          cpuSeconds: sync.cpuSeconds + (discover?.cpuSeconds ?? 0),
        };
      }
      if (tool === 'floor') {
        const run = {
          source: { url: srcUrl, user: SOURCE_USER, password: PASSWORD },
          destination: { url: dstUrl, user, password: PASSWORD },
          concurrency,
        };
        const r = await timed(process.execPath, [floorBundle], {
          ...process.env,
          MAILFERRY_BENCH_RUN: JSON.stringify(run),
        });
        // Only its PUTs count: the reads and the collections made before them are not what it measures.
        return { ...r, seconds: (JSON.parse(r.stdout) as { ms: number }).ms / 1000 };
      }
      throw new Error(`unknown tool ${tool}`);
    };

    // Every repetition copies to fresh destination users; the tools take turns going first, so a change in the
    // machine's load falls on all of them.
    const runs: Measure[] = [];
    const results = new Map<string, { objects: number; exact: boolean }>();
    for (let rep = 1; rep <= repeats; rep++) {
      const order = tools.map((_, i) => tools[(i + rep - 1) % tools.length]!);
      for (const tool of order) {
        const user = users(tool, rep);
        for (const pass of ['full', 'no-change'] as const) {
          if (tool === 'floor' && pass === 'no-change') continue;
          process.stderr.write(`${tool} (run ${rep}): ${pass} pass ...\n`);
          srcProxy.reset();
          dstProxy.reset();
          const r = await runTool(tool, user, pass).catch((err: unknown) => {
            throw new Error(
              `${(err as Error).message}\ndestination Radicale's log:\n${destination!.log().slice(-3000)}`,
            );
          });
          const requests = { source: srcProxy.roundTrips(), destination: dstProxy.roundTrips() };
          runs.push({ tool, pass, rep, ...r, requests });
          process.stderr.write(
            `  ${r.seconds.toFixed(2)} s, CPU ${r.cpuSeconds.toFixed(2)} s, peak RSS ${r.maxRssMb.toFixed(0)} MB, requests ${requests.source} + ${requests.destination}\n`,
          );
        }
        const got = sameObjects(reference, await fingerprint(destination, user));
        const before = results.get(tool);
        results.set(tool, { objects: got.objects, exact: (before?.exact ?? true) && got.exact });
      }
    }

    const pairRatio = (tool: string, pass: Pass) => {
      const ratios = runs
        .filter((r) => r.tool === tool && r.pass === pass)
        .flatMap((r) => {
          const b = runs.find((x) => x.tool === 'vdirsyncer' && x.pass === pass && x.rep === r.rep);
          return b ? [b.seconds / r.seconds] : [];
        });
      if (!ratios.length) return '–';
      const range = ratios.length > 1 ? ` (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` : '';
      return `${median(ratios).toFixed(2)}×${range}`;
    };
    const lines = [
      `Corpus: ${events} events in ${CALENDARS.length} calendars and ${contacts} contacts in one address book (${objects} objects, ${collections} collections); Radicale ${await radicaleVersion()}, vdirsyncer ${await vdirsyncerVersion()}; ${os.cpus().length} CPUs; median of ${repeats} run(s) (min–max).`,
      '',
      '| tool | pass | seconds | objects/s | CPU s | peak RSS MB | requests (source + destination) | requests per collection | copied | identical | vdirsyncer ÷ tool, pair by pair |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    ];
    for (const tool of tools) {
      for (const pass of ['full', 'no-change'] as const) {
        const mine = runs.filter((r) => r.tool === tool && r.pass === pass);
        if (!mine.length) continue;
        const secs = mine.map((r) => r.seconds);
        const med = median(secs);
        const range = secs.length > 1 ? ` (${Math.min(...secs).toFixed(2)}–${Math.max(...secs).toFixed(2)})` : '';
        const src = median(mine.map((r) => r.requests.source));
        const dst = median(mine.map((r) => r.requests.destination));
        const res = results.get(tool);
        lines.push(
          `| ${tool} | ${pass} | ${med.toFixed(2)}${range} | ${pass === 'full' ? (objects / med).toFixed(0) : '–'} | ${median(mine.map((r) => r.cpuSeconds)).toFixed(2)} | ${Math.max(...mine.map((r) => r.maxRssMb)).toFixed(0)} | ${src + dst} (${src} + ${dst}) | ${((src + dst) / collections).toFixed(1)} | ${res?.objects ?? '?'} | ${res?.exact ? 'yes' : 'no'} | ${tool === 'vdirsyncer' ? '–' : pairRatio(tool, pass)} |`,
        );
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all([source?.close(), destination?.close()]);
    await db?.close();
    await rm(work, { recursive: true, force: true });
  }
}

function output(command: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', () => resolve('?'));
    child.on('exit', () => resolve(out.trim()));
  });
}

const radicaleVersion = async () =>
  (await output(path.join(__dirname, '..', '.venv', 'bin', 'radicale'), ['--version'])).split('\n').pop() ?? '?';
const vdirsyncerVersion = async () => (await output(VDIRSYNCER, ['--version'])).replace(/^vdirsyncer, version /, '');

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
