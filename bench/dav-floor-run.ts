/**
 * The destination's floor for bench/dav-bench.ts (`floor`): what any tool that writes one object per PUT pays the
 * destination server, and nothing else. Every source object is read first (not timed), the destination
 * collections are made (not timed), then only the PUTs are timed: each object created with If-None-Match: *,
 * `concurrency` at once over kept-alive connections. No tool that copies object by object can finish its full
 * pass sooner than this on the same server. Configuration as JSON in MAILFERRY_BENCH_RUN; prints a JSON summary.
 */
import { basicAuthorization, DavClient, hrefPath, type DavObject, type DavServiceKind } from '../dav/client';
import { forEachConcurrently, plannedDestinationHref } from '../dav/mailbox-sync';

interface Account {
  url: string;
  user: string;
  password: string;
}

interface RunConfig {
  source: Account;
  destination: Account;
  concurrency?: number;
}

const MULTIGET_BATCH = 100;

function client(account: Account, kind: DavServiceKind, side: 'source' | 'destination'): DavClient {
  return new DavClient({
    kind,
    url: account.url,
    side,
    authorization: basicAuthorization(account.user, account.password),
  });
}

async function main() {
  const config = JSON.parse(process.env.MAILFERRY_BENCH_RUN ?? '{}') as RunConfig;
  const writes: Array<{ dst: DavClient; href: string; object: DavObject }> = [];
  for (const kind of ['caldav', 'carddav'] as const) {
    const src = client(config.source, kind, 'source');
    const dst = client(config.destination, kind, 'destination');
    const home = await dst.home();
    for (const collection of await src.collections()) {
      const destinationUrl = new URL(
        `${hrefPath(collection.url, collection.url).split('/').filter(Boolean).pop()}/`,
        home,
      );
      await dst.makeCollection(String(destinationUrl), collection);
      const hrefs = [...(await src.etags(collection.url)).keys()];
      for (let i = 0; i < hrefs.length; i += MULTIGET_BATCH) {
        const read = await src.getMany(collection.url, hrefs.slice(i, i + MULTIGET_BATCH));
        for (const [href, object] of read ?? []) {
          if (object) writes.push({ dst, href: plannedDestinationHref(destinationUrl.pathname, href), object });
        }
      }
    }
  }
  const started = process.hrtime.bigint();
  await forEachConcurrently(writes, config.concurrency ?? 4, async ({ dst, href, object }) => {
    const result = await dst.put(href, object, { create: true });
    if (!result.ok) throw new Error(`PUT ${href}: ${result.status} ${result.reason}`);
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`${JSON.stringify({ ms, objects: writes.length })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`floor run failed: ${(err as Error).message}\n`);
  process.exit(1);
});
