import { createHash } from 'node:crypto';
import { gradeOf, type ConsistencyDifference, type DifferenceType } from '../domain/consistency';
import type { Logger } from '../observability/logger';
import { hrefPath, type DavClient, type DavCollection, type DavObject } from './client';
import { DavSyncError, type Side } from './errors';
import { itemInfo, type ItemInfo } from './items';
import {
  forEachConcurrently,
  isCalendarKind,
  plannedDestinationHref,
  plannedDestinationUrl,
  servicePairs,
  wantedItem,
  type DavSide,
  type DavSkipOptions,
} from './mailbox-sync';
import type { DavSyncStore } from './sync-store';

/**
 * The verification of one mailbox's calendars and contacts: each source collection the skip settings take is
 * compared with its destination collection (the one its checkpoint names, else where the copy would make it),
 * object by object, through the sync's records (`dav_objects`): an object whose source ETag is the one the sync
 * copied and whose destination ETag is the one the sync wrote agrees without a byte read. Objects that disagree
 * (an ETag moved, a record without a destination ETag, an object on one side only) are read (GET) and compared by
 * UID and SHA-256 of the body as served; `deep` reads and compares every pair. Objects the destination refused
 * (state 'skipped', same source version) are listed as skipped. Collections missing on the destination are one
 * difference each. Read-only: PROPFIND and GET only.
 */

export interface DavVerifyOptions extends DavSkipOptions {
  /** Compare the bodies of every pair, not only of those whose ETags moved. */
  deep: boolean;
  /** Objects read at once per collection. Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface DavVerificationResult {
  /** Objects in the verified source collections (of the kinds the settings take), skipped ones included. */
  sourceItems: number;
  /** Objects in their destination collections. */
  destinationItems: number;
  differences: ConsistencyDifference[];
  /** Collections compared. */
  collections: number;
}

/** An object read for the comparison: its identity and name (ical.js), size and hash. */
interface Read {
  href: string;
  info: ItemInfo;
  size: number;
  sha256: string;
}

/** A pair whose bodies are compared, and what the ETags say of it. */
interface Pair {
  source: string;
  destination: string;
  /** Which side's ETag moved since the sync (null: neither known to have). */
  moved: Side | null;
}

/**
 * Compares one mailbox's calendars and contacts (see the module comment). Throws {@link DavSyncError} like a sync:
 * DAV_AUTH_FAILED, DAV_UNREACHABLE … with the side, CANCELLED when `options.signal` aborts.
 */
export async function verifyMailboxOverDav(
  store: Pick<DavSyncStore, 'collections' | 'objects'>,
  source: DavSide,
  destination: DavSide,
  options: DavVerifyOptions,
): Promise<DavVerificationResult> {
  const result: DavVerificationResult = { sourceItems: 0, destinationItems: 0, differences: [], collections: 0 };
  const checkpoints = await store.collections();
  for await (const { src, dst, collections, home, existing } of servicePairs(source, destination, options, [
    ...checkpoints.values(),
  ])) {
    for (const collection of collections) {
      cancelledCheck(options.signal);
      const sourcePath = hrefPath(collection.url, collection.url);
      const destinationUrl = checkpoints.get(sourcePath)?.destinationUrl ?? plannedDestinationUrl(home, sourcePath);
      const found = existing.has(hrefPath(destinationUrl, destinationUrl))
        ? await verifyCollection(store, src, dst, collection, destinationUrl, options)
        : await missingCollection(src, collection, destinationUrl);
      result.sourceItems += found.sourceItems;
      result.destinationItems += found.destinationItems;
      result.differences.push(...found.differences);
      result.collections++;
    }
  }
  options.logger?.info('calendars and contacts verified', {
    deep: options.deep,
    collections: result.collections,
    sourceItems: result.sourceItems,
    destinationItems: result.destinationItems,
    differences: result.differences.length,
    grade: gradeOf(result.differences, result.sourceItems),
  });
  return result;
}

type Found = Omit<DavVerificationResult, 'collections'>;

const labelOf = (c: DavCollection) => c.displayName ?? hrefPath(c.url, c.url);

const differenceKind = (c: DavCollection['kind']) => (c === 'calendar' ? 'calendar' : 'contact');

function cancelledCheck(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DavSyncError('CANCELLED', 'verification cancelled');
}

/** A source collection without its destination collection: one difference standing for its objects. */
async function missingCollection(src: DavClient, collection: DavCollection, destinationUrl: string): Promise<Found> {
  const objects = (await src.etags(collection.url)).size;
  return {
    sourceItems: objects,
    destinationItems: 0,
    differences: [
      {
        kind: differenceKind(collection.kind),
        type: 'missingFolder',
        folder: labelOf(collection),
        side: 'source',
        messageId: null,
        subject: null,
        date: null,
        size: null,
        detail: `no destination ${collection.kind} "${hrefPath(destinationUrl, destinationUrl)}"`,
        count: Math.max(1, objects),
      },
    ],
  };
}

async function verifyCollection(
  store: Pick<DavSyncStore, 'objects'>,
  src: DavClient,
  dst: DavClient,
  collection: DavCollection,
  destinationUrl: string,
  options: DavVerifyOptions,
): Promise<Found> {
  const sourcePath = hrefPath(collection.url, collection.url);
  const destinationPath = hrefPath(destinationUrl, destinationUrl);
  const [sourceList, destinationList, records] = await Promise.all([
    src.etags(collection.url),
    dst.etags(destinationUrl),
    store.objects(sourcePath),
  ]);
  const pairs: Pair[] = [];
  const unpaired: string[] = [];
  const skipped: string[] = [];
  const claimed = new Set<string>();
  for (const [href, etag] of sourceList) {
    const record = records.get(href);
    if (record?.state === 'skipped' && etag !== null && record.sourceEtag === etag) {
      skipped.push(href);
      continue;
    }
    const copied = record?.state === 'copied' ? record : null;
    const target = copied?.destinationHref ?? plannedDestinationHref(destinationPath, href);
    if (!destinationList.has(target)) {
      unpaired.push(href);
      continue;
    }
    claimed.add(target);
    const sourceMoved = !copied || etag === null || copied.sourceEtag !== etag;
    const destinationMoved = !copied?.destinationEtag || destinationList.get(target) !== copied.destinationEtag;
    if (!sourceMoved && !destinationMoved && !options.deep) continue;
    const moved = copied ? (destinationMoved ? 'destination' : sourceMoved ? 'source' : null) : null;
    pairs.push({ source: href, destination: target, moved });
  }
  const extra = [...destinationList.keys()].filter((href) => !claimed.has(href));

  // What is read: both bodies of each pair to compare, and the objects of one side only (for their UIDs and names).
  const reads = new Map<string, Read | null>();
  const read = (client: DavClient, side: Side, href: string) => ({ client, key: `${side}\u0000${href}`, href });
  const wanted = [
    ...pairs.flatMap((p) => [read(src, 'source', p.source), read(dst, 'destination', p.destination)]),
    ...[...unpaired, ...skipped].map((href) => read(src, 'source', href)),
    ...extra.map((href) => read(dst, 'destination', href)),
  ];
  await forEachConcurrently(wanted, options.concurrency ?? 4, async ({ client, key, href }) => {
    cancelledCheck(options.signal);
    const object = await client.get(href);
    reads.set(key, object && readOf(href, object, collection.kind));
  });
  const sourceRead = (href: string) => reads.get(`source\u0000${href}`) ?? null;
  const destinationRead = (href: string) => reads.get(`destination\u0000${href}`) ?? null;

  const differences: ConsistencyDifference[] = [];
  const folder = labelOf(collection);
  const difference = (type: DifferenceType, side: Side, r: Read, detail: string | null): ConsistencyDifference => ({
    kind: isCalendarKind(r.info.kind) ? 'calendar' : 'contact',
    type,
    folder,
    side,
    messageId: r.info.uid,
    subject: r.info.summary,
    date: null,
    size: r.size,
    detail,
    count: 1,
  });
  let sourceItems = sourceList.size;
  const unwanted = (r: Read | null) => r !== null && !wantedItem(r.info.kind, options);

  for (const pair of pairs) {
    const s = sourceRead(pair.source);
    const d = destinationRead(pair.destination);
    if (!s || unwanted(s)) {
      sourceItems--; // gone since the listing, or of a kind the settings leave out
      continue;
    }
    if (!d) {
      differences.push(difference('missing', 'source', s, null));
      continue;
    }
    if (s.sha256 === d.sha256) continue;
    const [side, r, detail] =
      pair.moved === 'source'
        ? (['source', s, 'changed on the source since the last sync'] as const)
        : pair.moved === 'destination'
          ? (['destination', d, 'changed on the destination since the sync wrote it'] as const)
          : (['destination', d, 'the content differs (SHA-256)'] as const);
    differences.push(difference('content', side, r, detail));
  }

  // Objects on one side only: the same UID under another name is the same object (compared by content).
  const extras = new Map<string, Read>();
  const extraReads: Read[] = [];
  for (const href of extra) {
    const d = destinationRead(href);
    if (!d) continue;
    if (d.info.uid !== null && !extras.has(d.info.uid)) extras.set(d.info.uid, d);
    else extraReads.push(d);
  }
  for (const href of unpaired) {
    const s = sourceRead(href);
    if (!s || unwanted(s)) {
      sourceItems--;
      continue;
    }
    const d = s.info.uid === null ? undefined : extras.get(s.info.uid);
    if (!d) {
      differences.push(difference('missing', 'source', s, null));
      continue;
    }
    extras.delete(s.info.uid as string);
    if (d.sha256 !== s.sha256) differences.push(difference('content', 'destination', d, `stored as ${d.href}`));
  }
  for (const d of [...extras.values(), ...extraReads]) differences.push(difference('extra', 'destination', d, null));
  for (const href of skipped) {
    const s = sourceRead(href);
    if (s) differences.push(difference('skipped', 'source', s, 'bad item: the destination refused it'));
    else sourceItems--;
  }
  return { sourceItems, destinationItems: destinationList.size, differences };
}

function readOf(href: string, object: DavObject, kind: DavCollection['kind']): Read {
  return {
    href,
    info: itemInfo(object.body, kind),
    size: object.body.length,
    sha256: createHash('sha256').update(object.body).digest('hex'),
  };
}
