import type { Logger } from '../observability/logger';
import {
  DavClient,
  hrefPath,
  propertiesDiffer,
  type DavCollection,
  type DavObject,
  type DavService,
  type DavServiceKind,
  type WriteResult,
} from './client';
import { DavSyncError } from './errors';
import { itemInfo } from './items';
import type { CollectionCheckpoint, DavItemKind, DavSyncStore, ObjectRecord } from './sync-store';

/** One side's calendar and contact services; either may be absent (then that kind is not synced). */
export interface DavSide {
  caldav: DavService | null;
  carddav: DavService | null;
}

export interface DavSyncOptions {
  /** Leave events (and journals) out: calendars that hold only them, and such objects of mixed calendars. */
  skipCalendar: boolean;
  /** Leave tasks out (task lists, and tasks of mixed calendars). */
  skipTasks: boolean;
  /** Leave address books out. */
  skipContacts: boolean;
  /** Mirror deletions of the source (the batch's delete option, the same as for mail). */
  deleteOnDestination: boolean;
  /** Refused objects (mail and DAV together) above which the mailbox fails with BAD_ITEM_LIMIT_EXCEEDED. */
  badItemLimit: number;
  /** Objects copied at once per collection. Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (progress: DavSyncProgress) => void;
  logger?: Logger;
}

/** What a running calendar and contact sync has done in this pass. */
export interface DavSyncProgress {
  collectionsTotal: number;
  collectionsSynced: number;
  /** Events, tasks and journals copied or updated in this pass. */
  calendarItemsCopied: number;
  /** Contacts and groups copied or updated in this pass. */
  contactsCopied: number;
  itemsSkipped: number;
  deleted: number;
  bytesCopied: number;
  currentCollection: string | null;
}

export type DavSyncSummary = DavSyncProgress;

const SERVICE_KINDS: DavServiceKind[] = ['caldav', 'carddav'];

/** Collections of a service copied at once. */
const COLLECTIONS_AT_ONCE = 3;

/** Objects read in one multiget REPORT. */
const MULTIGET_BATCH = 50;

const lastSegment = (path: string) => path.replace(/\/+$/, '').split('/').pop() ?? '';

const sameOrigin = (a: string, b: string) => new URL(a).origin === new URL(b).origin;

/** The home set of a collection (its parent); a source collection's decoded path is taken on its service's host. */
const homeOf = (collectionUrl: string, base?: string) =>
  new URL('..', base ? new URL(collectionUrl.split('/').map(encodeURIComponent).join('/'), base) : collectionUrl).href;

/** Whether an object of this kind is an event, task or journal (a calendar item), not a contact or group. */
export const isCalendarKind = (k: DavItemKind) => k === 'event' || k === 'task' || k === 'journal';

/** Where a source collection is copied to when no checkpoint says otherwise: its name under the destination's home. */
export const plannedDestinationUrl = (home: string, sourcePath: string): string =>
  new URL(`${encodeURIComponent(lastSegment(sourcePath))}/`, home).href;

/** Where a source object is copied to in its destination collection (the same resource name). */
export const plannedDestinationHref = (destinationPath: string, sourceHref: string): string =>
  `${destinationPath}${lastSegment(sourceHref)}`;

/** The skip settings of a batch, as the copy and the verification apply them. */
export type DavSkipOptions = Pick<DavSyncOptions, 'skipCalendar' | 'skipTasks' | 'skipContacts'>;

/** Runs `fn` over `items`, `concurrency` at a time; the first failure stops the others from starting more. */
export async function forEachConcurrently<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/**
 * Copies one mailbox's calendars (events, tasks) and address books (contacts, groups) from source to destination
 * over CalDAV and CardDAV: collections with their properties, objects as the source serves them, under the same
 * resource names; incrementally (sync-collection tokens, else ctag and ETags) and exactly once: an object is
 * created with If-None-Match: *, so a retry after a crash finds it there (412) and takes it over; updated with
 * If-Match on the destination's ETag. Throws {@link DavSyncError}.
 */
export async function syncMailboxOverDav(
  store: DavSyncStore,
  source: DavSide,
  destination: DavSide,
  options: DavSyncOptions,
): Promise<DavSyncSummary> {
  const progress: DavSyncProgress = {
    collectionsTotal: 0,
    collectionsSynced: 0,
    calendarItemsCopied: 0,
    contactsCopied: 0,
    itemsSkipped: 0,
    deleted: 0,
    bytesCopied: 0,
    currentCollection: null,
  };
  const report = () => options.onProgress?.({ ...progress });
  const checkpoints = await store.collections();
  for await (const { src, dst, collections, home, existing } of servicePairs(source, destination, options, [
    ...checkpoints.values(),
  ])) {
    progress.collectionsTotal += collections.length;
    report();
    await forEachConcurrently(collections, COLLECTIONS_AT_ONCE, async (collection) => {
      progress.currentCollection = collection.displayName ?? hrefPath(collection.url, collection.url);
      report();
      await syncCollection({ store, src, dst, home, existing, collection, checkpoints, options, progress, report });
      progress.collectionsSynced++;
      report();
    });
  }
  progress.currentCollection = null;
  report();
  return progress;
}

/** One kind of service (CalDAV or CardDAV) that both sides have, opened for a pass over its collections. */
export interface ServicePair {
  src: DavClient;
  dst: DavClient;
  /** The source's collections the skip settings take. */
  collections: DavCollection[];
  /** The destination's home set, where new collections are made. */
  home: string;
  /** The destination's collections as the pass began, by path. */
  existing: Map<string, DavCollection>;
}

/** The service kinds both sides have and the skip settings take, CalDAV first, each opened when reached. */
export async function* servicePairs(
  source: DavSide,
  destination: DavSide,
  options: DavSkipOptions & { signal?: AbortSignal },
  checkpoints: readonly CollectionCheckpoint[] = [],
): AsyncGenerator<ServicePair> {
  for (const kind of SERVICE_KINDS) {
    const from = source[kind];
    const to = destination[kind];
    if (!from || !to) continue;
    if (kind === 'carddav' ? options.skipContacts : options.skipCalendar && options.skipTasks) continue;
    // Each side's home set is where an earlier pass found (source) and made (destination) its collections: no
    // discovery on the way to the one PROPFIND a pass needs on each side, which also tells whether that home set
    // still answers (else discovery runs after all). A source collection's path is on the service's host.
    const known = checkpoints.find((cp) => cp.kind === (kind === 'caldav' ? 'calendar' : 'addressbook'));
    const src = new DavClient(from, options.signal, known ? homeOf(known.sourcePath, from.url) : null);
    // Only on the service's own host: an endpoint moved to another server is discovered there again.
    const dstHome = known ? homeOf(known.destinationUrl) : null;
    const dst = new DavClient(to, options.signal, dstHome && sameOrigin(dstHome, to.url) ? dstHome : null);
    const collections = (await src.collections()).filter((c) => wantedCollection(c, options));
    const existing = new Map((await dst.collections()).map((c) => [hrefPath(c.url, c.url), c]));
    const home = await dst.home();
    yield { src, dst, collections, home, existing };
  }
}

/** Whether the skip settings take a collection: an address book, or a calendar with a component they take. */
function wantedCollection(c: DavCollection, options: DavSkipOptions): boolean {
  if (c.kind === 'addressbook') return !options.skipContacts;
  const components = c.components.length ? c.components : ['VEVENT', 'VTODO', 'VJOURNAL'];
  return components.some((name) => (name === 'VTODO' ? !options.skipTasks : !options.skipCalendar));
}

/** What a pass copies of a collection, as its checkpoint keeps it: "events,tasks" or "contacts", less what is left out. */
function includedKinds(options: DavSyncOptions, kind: DavCollection['kind']): string {
  const kinds = kind === 'calendar' ? { events: options.skipCalendar, tasks: options.skipTasks } : { contacts: false };
  return Object.entries(kinds)
    .filter(([, skipped]) => !skipped)
    .map(([name]) => name)
    .join(',');
}

/** Whether the skip settings take an object of this kind. */
export function wantedItem(kind: DavItemKind, options: DavSkipOptions): boolean {
  if (kind === 'task') return !options.skipTasks;
  if (isCalendarKind(kind)) return !options.skipCalendar;
  return !options.skipContacts;
}

interface CollectionRun {
  store: DavSyncStore;
  src: DavClient;
  dst: DavClient;
  /** The destination's home set, where new collections are made. */
  home: string;
  /** The destination's collections as this pass began, by path. */
  existing: Map<string, DavCollection>;
  collection: DavCollection;
  checkpoints: Map<string, CollectionCheckpoint>;
  options: DavSyncOptions;
  progress: DavSyncProgress;
  report(): void;
}

/** The destination collection of a source collection: recorded, or made now (MKCALENDAR / MKCOL) and recorded. */
async function destinationOf(run: CollectionRun, sourcePath: string): Promise<CollectionCheckpoint> {
  const known = run.checkpoints.get(sourcePath);
  if (known) return known;
  const { collection } = run;
  const destinationUrl = plannedDestinationUrl(run.home, sourcePath);
  // 405: already there (a sync that crashed between the MKCALENDAR and its record, or the user's own): used as is.
  const created = await run.dst.makeCollection(destinationUrl, collection);
  run.options.logger?.info(created ? 'dav collection created' : 'dav collection exists on the destination', {
    kind: collection.kind,
    collection: sourcePath,
    destination: new URL(destinationUrl).pathname,
  });
  const cp = { kind: collection.kind, sourcePath, destinationUrl, displayName: collection.displayName };
  await run.store.saveCollection(cp);
  const saved: CollectionCheckpoint = { ...cp, syncToken: null, ctag: null, included: null, completedAt: null };
  run.checkpoints.set(sourcePath, saved);
  return saved;
}

/** A collection renamed, recoloured or described anew on the source since it was copied: the same on the destination. */
async function copyProperties(run: CollectionRun, cp: CollectionCheckpoint): Promise<void> {
  const there = run.existing.get(hrefPath(cp.destinationUrl, cp.destinationUrl));
  if (!there || !propertiesDiffer(run.collection, there)) return;
  const ok = await run.dst.updateProperties(cp.destinationUrl, run.collection);
  run.options.logger?.info(ok ? 'dav collection properties copied' : 'dav collection properties refused', {
    collection: cp.sourcePath,
  });
}

/**
 * Which source objects changed (href → ETag) and which are gone, since the checkpoint: the changes since its sync
 * token, or (first pass, no token, token refused) the whole listing compared with the recorded ETags. Changes a
 * crashed pass already copied (same ETag) are left out.
 */
async function changesOf(
  run: CollectionRun,
  cp: CollectionCheckpoint,
  records: Map<string, ObjectRecord>,
): Promise<{ changed: Map<string, string | null>; deleted: string[]; token: string | null }> {
  const { src, collection } = run;
  const unchanged = (href: string, etag: string | null) => etag !== null && records.get(href)?.sourceEtag === etag;
  // Objects a pass left out are in no record: when the settings now take them, the whole listing finds them.
  const since = cp.completedAt && cp.included === includedKinds(run.options, collection.kind) ? cp.syncToken : null;
  const changes = collection.supportsSyncCollection ? await src.changes(collection.url, since) : null;
  if (changes && since !== null) {
    const changed = new Map([...changes.changed].filter(([href, etag]) => !unchanged(href, etag)));
    return { changed, deleted: changes.deleted, token: changes.token };
  }
  if (since !== null) {
    run.options.logger?.info('dav sync token refused: comparing ETags', { collection: cp.sourcePath });
  }
  const listing = changes?.changed ?? (await src.etags(collection.url));
  return {
    changed: new Map([...listing].filter(([href, etag]) => !unchanged(href, etag))),
    deleted: [...records.keys()].filter((href) => !listing.has(href)),
    token: changes?.token ?? collection.syncToken,
  };
}

async function syncCollection(run: CollectionRun): Promise<void> {
  const { store, src, dst, collection, options, progress } = run;
  const sourcePath = hrefPath(collection.url, collection.url);
  const cp = await destinationOf(run, sourcePath);
  await copyProperties(run, cp);
  // Unchanged since the last complete pass, which copied what this one would: not one request more.
  const included = includedKinds(options, collection.kind);
  if (cp.completedAt && cp.included === included && cp.ctag !== null && cp.ctag === collection.ctag) return;
  const records = await store.objects(sourcePath);
  const { changed, deleted, token } = await changesOf(run, cp, records);
  const destinationPath = hrefPath(cp.destinationUrl, cp.destinationUrl);
  const label = cp.displayName ?? sourcePath;
  const gone: string[] = [];

  const hrefs = [...changed.keys()];
  for (let start = 0; start < hrefs.length; start += MULTIGET_BATCH) {
    if (options.signal?.aborted) throw new DavSyncError('CANCELLED', 'sync cancelled');
    const batch = hrefs.slice(start, start + MULTIGET_BATCH);
    const read = await src.getMany(collection.url, batch);
    await forEachConcurrently(batch, options.concurrency ?? 4, async (href) => {
      if (options.signal?.aborted) throw new DavSyncError('CANCELLED', 'sync cancelled');
      // Not in the multiget's answer (or no multiget on this server): read alone.
      const object = read?.has(href) ? read.get(href) : await src.get(href);
      if (!object) {
        gone.push(href);
        return;
      }
      await copyObject(run, { sourcePath, destinationPath, label, records, changed }, href, object);
    });
  }

  const vanished = [...deleted, ...gone].filter((href) => records.has(href));
  if (options.deleteOnDestination) {
    for (const href of vanished) {
      const record = records.get(href) as ObjectRecord;
      if (record.state !== 'copied') continue;
      await deleteObject(dst, record);
      progress.deleted++;
    }
  }
  if (vanished.length) await store.forget(sourcePath, vanished);
  await store.completeCollection(sourcePath, { syncToken: token, ctag: collection.ctag, included });
  options.logger?.info('dav collection synced', {
    kind: collection.kind,
    collection: sourcePath,
    changed: changed.size,
    deleted: vanished.length,
  });
}

/** Where a collection's objects go and what was recorded of them, for {@link copyObject}. */
interface CollectionCopy {
  sourcePath: string;
  destinationPath: string;
  label: string;
  records: Map<string, ObjectRecord>;
  changed: Map<string, string | null>;
}

/** Copies one source object read in this pass to the destination and records it, or skips and reports it. */
async function copyObject(run: CollectionRun, copy: CollectionCopy, href: string, object: DavObject): Promise<void> {
  const { store, dst, collection, options, progress } = run;
  const info = itemInfo(object.body, collection.kind);
  if (!wantedItem(info.kind, options)) return;
  const record = copy.records.get(href);
  const destinationHref = record?.destinationHref ?? plannedDestinationHref(copy.destinationPath, href);
  const result = await writeObject(dst, destinationHref, object, record);
  if (result.ok) {
    await store.recordCopied(copy.sourcePath, {
      sourceHref: href,
      sourceEtag: object.etag ?? copy.changed.get(href) ?? null,
      destinationHref,
      destinationEtag: result.etag,
      itemKind: info.kind,
    });
    if (isCalendarKind(info.kind)) progress.calendarItemsCopied++;
    else progress.contactsCopied++;
    progress.bytesCopied += object.body.length;
  } else {
    await skip(run, copy.label, href, destinationHref, object, info, result.reason);
  }
  run.report();
}

/**
 * Writes one object: an update over the version we wrote (If-Match), else a creation (If-None-Match: *). A
 * precondition that fails means the destination holds another version under that name (ours from a crashed
 * attempt, or edited there): the source wins, over the version found (If-Match on its ETag, so a concurrent
 * writer is still not overwritten blindly).
 */
async function writeObject(
  dst: DavClient,
  href: string,
  object: DavObject,
  record: ObjectRecord | undefined,
): Promise<WriteResult> {
  let result =
    record?.state === 'copied' && record.destinationEtag
      ? await dst.put(href, object, { etag: record.destinationEtag })
      : await dst.put(href, object, { create: true });
  if (!result.ok && (result.status === 412 || result.status === 404)) {
    const found = await dst.get(href);
    result = found
      ? await dst.put(href, object, { etag: found.etag ?? '*' })
      : await dst.put(href, object, { create: true });
  }
  return result;
}

/** Mirrors a source deletion: the destination's copy goes too, whatever version it is now (404: already gone). */
async function deleteObject(dst: DavClient, record: ObjectRecord): Promise<void> {
  let result = await dst.remove(record.destinationHref, record.destinationEtag);
  if (!result.ok && result.status === 412) result = await dst.remove(record.destinationHref, null);
  if (!result.ok && result.status !== 404) {
    throw new DavSyncError(
      'DAV_SERVER_ERROR',
      `destination refused to delete ${record.destinationHref}: ${result.reason}`,
      { side: 'destination' },
    );
  }
}

async function skip(
  run: CollectionRun,
  collection: string,
  href: string,
  destinationHref: string,
  object: DavObject,
  info: { kind: DavItemKind; summary: string | null },
  reason: string,
): Promise<void> {
  const { store, options, progress } = run;
  await store.recordSkipped(hrefPath(run.collection.url, run.collection.url), {
    sourceHref: href,
    sourceEtag: object.etag,
    destinationHref,
    itemKind: info.kind,
    collection,
    summary: info.summary,
    size: object.body.length,
    reason: `destination refused it: ${reason}`,
  });
  progress.itemsSkipped++;
  options.logger?.warn('dav item skipped', { collection, href, summary: info.summary, reason });
  const bad = await store.badItems();
  if (bad > options.badItemLimit) {
    throw new DavSyncError(
      'BAD_ITEM_LIMIT_EXCEEDED',
      `the destination refused ${bad} items, more than the bad item limit of ${options.badItemLimit}`,
      { side: 'destination' },
    );
  }
}
