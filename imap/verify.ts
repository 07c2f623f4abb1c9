import { createHash } from 'node:crypto';
import type { FetchMessageObject, ImapFlow } from 'imapflow';
import { gradeOf, type ConsistencyDifference, type DifferenceType, type Grade } from '../domain/consistency';
import type { Logger } from '../observability/logger';
import type { Side } from './errors';
import { failedCommand, sha256, toSequenceSet } from './folder-sync/context';
import { listFolders, planMailboxFolders, type FolderPlan } from './folders';
import { withThrottleRetries, type MailboxSyncOptions } from './mailbox-sync';
import { appendableFlags } from './multiappend';
import { cancelledCheck, examine, withBothSides, type ReadOnlyOptions, type ReadOnlySide } from './read-only';

/**
 * The verification of one mailbox: both sides compared folder by folder, with the folder mapping the sync used
 * (`planMailboxFolders`, then each synced folder's destination from its checkpoint), and what the sync left out on
 * purpose (skipped large and bad items, Gmail's All Mail messages linked to a label) accounted for. Per folder, the
 * multiset of (Message-ID, or a hash of Date/From/Subject where a message has none; RFC822.SIZE; INTERNALDATE) and
 * the flags of each message; with `deep`, the SHA-256 of every matched pair's full content too.
 *
 * Nothing changes on either server: folders are opened with EXAMINE and read with FETCH of UID, FLAGS,
 * RFC822.SIZE, INTERNALDATE and BODY.PEEK[HEADER.FIELDS (…)]: one FETCH per folder per side; BODY.PEEK[] only
 * when deep, in chunks bounded by count and bytes (memory stays bounded by `chunkBytes`); ENVELOPE only for the
 * messages that differ, for their subjects. Throttling servers are waited out as a sync waits them out.
 */

/** What the verification needs from the sync's records (`db/` implements it on the mailbox's sync state). */
export interface VerifyStore {
  /** The destination folder each synced source folder went to (its checkpoint), by source path. */
  destinations(): Promise<Map<string, string>>;
  /** The source messages the sync left out on purpose. */
  notCopied(): Promise<NotCopied[]>;
}

/** A source message the sync did not copy, and why: over the size limit, refused, or linked (copied elsewhere). */
export interface NotCopied {
  sourceFolder: string;
  uidvalidity: number;
  uid: number;
  reason: 'large' | 'bad' | 'linked';
  /** The reason the sync recorded, for a person. */
  detail: string | null;
}

export interface VerifyOptions extends ReadOnlyOptions, Pick<MailboxSyncOptions, 'throttleRetries' | 'onThrottle'> {
  /** The batch's folder filter, as the sync applies it. */
  folderInclude: string[];
  folderExclude: string[];
  /** Compare full contents (BODY.PEEK[]) of the messages found on both sides. */
  deep: boolean;
  /** Deep only: messages per FETCH BODY.PEEK[]. Default 100. */
  chunkMessages?: number;
  /** Deep only: bytes per FETCH BODY.PEEK[] (a larger message goes alone). Default 16 MiB. */
  chunkBytes?: number;
  /** Called after each folder (the activity heartbeats). */
  onProgress?: (progress: { foldersTotal: number; foldersVerified: number }) => void;
  logger?: Logger;
}

export interface VerificationResult {
  grade: Grade;
  deep: boolean;
  /** Messages in the verified source folders, skipped ones included. */
  sourceItems: number;
  /** Messages in their destination folders. */
  destinationItems: number;
  differences: ConsistencyDifference[];
  /** Folders compared. */
  folders: number;
}

/** One message as the header FETCH sees it. */
interface Item {
  uid: number;
  /** Message-ID, or `hash:` + SHA-256 of Date/From/Subject. */
  key: string;
  messageId: string | null;
  size: number;
  date: Date | null;
  /** Sorted, appendable flags only (no \Recent), as the sync copies them. */
  flags: string[];
}

interface FolderRead {
  uidvalidity: number;
  items: Item[];
}

/** The one FETCH per folder per side of a verification (`deep` adds BODY.PEEK[] of the pairs). */
export const VERIFY_FETCH_QUERY = {
  uid: true,
  size: true,
  internalDate: true,
  flags: true,
  headers: ['message-id', 'date', 'from', 'subject'],
} as const;

/**
 * Compares one mailbox's source and destination (see the module comment) and grades the result
 * (domain/consistency.ts). Throws {@link ImapSyncError} like an analysis: AUTH_FAILED, CONNECTION_FAILED … with the
 * side's `host:port`, CANCELLED when `options.signal` aborts.
 */
export async function verifyMailboxOverImap(
  store: VerifyStore,
  source: ReadOnlySide,
  destination: ReadOnlySide,
  options: VerifyOptions,
): Promise<VerificationResult> {
  const [destinations, notCopied] = await Promise.all([store.destinations(), store.notCopied()]);
  return withBothSides(source, destination, { ...options, what: 'verification' }, async (src, dst) => {
    const [sourceList, destinationList] = await Promise.all([
      listFolders(src, 'source', true),
      listFolders(dst, 'destination', true),
    ]);
    const { plans } = planMailboxFolders(
      sourceList.folders,
      destinationList,
      { include: options.folderInclude, exclude: options.folderExclude },
      source.endpoint.provider,
    );
    const existing = new Set(destinationList.folders.map((f) => f.path));
    for (const p of plans) {
      const synced = destinations.get(p.source.path);
      if (synced) p.destinationPath = synced;
      p.exists = existing.has(p.destinationPath);
    }
    const selectable = plans.filter((p) => p.source.selectable);
    const result: VerificationResult = {
      grade: 'Perfect',
      deep: options.deep,
      sourceItems: 0,
      destinationItems: 0,
      differences: [],
      folders: selectable.length,
    };
    const accounted = groupNotCopied(notCopied);
    // Each side reads its folders on its own connection, both at once: neither waits for the other's folder.
    const [sourceReads, destinationReads] = await Promise.all([
      readFolders(
        src,
        'source',
        selectable.map((p) => p.source.path),
        options,
      ),
      readFolders(
        dst,
        'destination',
        selectable.filter((p) => p.exists).map((p) => p.destinationPath),
        options,
      ),
    ]);
    let verified = 0;
    for (const plan of selectable) {
      cancelledCheck(options.signal, 'verification');
      const reads = {
        left: sourceReads.get(plan.source.path) ?? null,
        right: destinationReads.get(plan.destinationPath) ?? null,
      };
      await withThrottleRetries(
        options,
        async () => {
          const found = await verifyFolder(src, dst, plan, reads, accounted, options);
          result.sourceItems += found.sourceItems;
          result.destinationItems += found.destinationItems;
          result.differences.push(...found.differences);
        },
        { folder: plan.source.path, destinationFolder: plan.destinationPath },
      );
      options.onProgress?.({ foldersTotal: selectable.length, foldersVerified: ++verified });
    }
    result.grade = gradeOf(result.differences, result.sourceItems);
    options.logger?.info('mailbox verified', {
      grade: result.grade,
      deep: options.deep,
      folders: result.folders,
      sourceItems: result.sourceItems,
      destinationItems: result.destinationItems,
      differences: result.differences.length,
    });
    return result;
  });
}

type Accounted = Map<string, Map<number, NotCopied>>;

const accountedKey = (folder: string, uidvalidity: number) => `${uidvalidity}\u0000${folder}`;

function groupNotCopied(list: NotCopied[]): Accounted {
  const out: Accounted = new Map();
  for (const n of list) {
    const key = accountedKey(n.sourceFolder, n.uidvalidity);
    const folder = out.get(key) ?? new Map<number, NotCopied>();
    folder.set(n.uid, n);
    out.set(key, folder);
  }
  return out;
}

/** A difference found in one folder, before its subject is known. */
interface Found {
  type: DifferenceType;
  side: Side;
  item: Item;
  detail: string | null;
}

/** The header FETCH of each folder of one side, one folder after the other; null for a folder that is gone. */
async function readFolders(
  client: ImapFlow,
  side: Side,
  paths: string[],
  options: VerifyOptions,
): Promise<Map<string, FolderRead | null>> {
  const reads = new Map<string, FolderRead | null>();
  for (const path of paths) {
    cancelledCheck(options.signal, 'verification');
    await withThrottleRetries(
      options,
      async () => {
        reads.set(path, await readFolder(client, side, path));
      },
      { side, folder: path },
    );
  }
  return reads;
}

/** Compares one folder pair from both sides' reads (`right` null: no destination folder). */
async function verifyFolder(
  src: ImapFlow,
  dst: ImapFlow,
  plan: FolderPlan,
  { left, right }: { left: FolderRead | null; right: FolderRead | null },
  accounted: Accounted,
  options: VerifyOptions,
): Promise<{ sourceItems: number; destinationItems: number; differences: ConsistencyDifference[] }> {
  const folder = plan.source.path;
  // A source folder gone since the LIST has nothing left to compare.
  if (!left) return { sourceItems: 0, destinationItems: right?.items.length ?? 0, differences: [] };
  const skipped = accounted.get(accountedKey(folder, left.uidvalidity)) ?? new Map<number, NotCopied>();
  const expected: Item[] = [];
  const found: Found[] = [];
  for (const item of left.items) {
    const why = skipped.get(item.uid);
    if (!why) expected.push(item);
    else if (why.reason !== 'linked') {
      found.push({ type: 'skipped', side: 'source', item, detail: `${why.reason} item: ${why.detail ?? ''}`.trim() });
    }
  }
  const sourceItems = left.items.length;
  if (!right) {
    const differences = await withSubjects(src, folder, 'source', found);
    differences.unshift({
      kind: 'mail',
      type: 'missingFolder',
      folder,
      side: 'source',
      messageId: null,
      subject: null,
      date: null,
      size: expected.reduce((n, i) => n + i.size, 0),
      detail: `no destination folder "${plan.destinationPath}"`,
      count: Math.max(1, expected.length),
    });
    return { sourceItems, destinationItems: 0, differences };
  }
  const matched = match(expected, right.items, found);
  for (const [s, d] of matched) {
    if (s.flags.join(' ') !== d.flags.join(' ')) {
      found.push({
        type: 'flags',
        side: 'destination',
        item: d,
        detail: `source ${flagText(s)}, destination ${flagText(d)}`,
      });
    }
  }
  if (options.deep) {
    const same = matched.filter(([s, d]) => s.size === d.size);
    for (const [, d] of await differentContent(src, dst, folder, plan.destinationPath, same, options)) {
      found.push({ type: 'content', side: 'destination', item: d, detail: 'the content differs (SHA-256)' });
    }
  }
  const differences = [
    ...(await withSubjects(
      src,
      folder,
      'source',
      found.filter((f) => f.side === 'source'),
    )),
    ...(await withSubjects(
      dst,
      plan.destinationPath,
      'destination',
      found.filter((f) => f.side === 'destination'),
      folder,
    )),
  ];
  return { sourceItems, destinationItems: right.items.length, differences };
}

const flagText = (i: Item) => (i.flags.length ? i.flags.join(' ') : 'none');

/**
 * Pairs source and destination messages of one folder, each used once: first those that agree on key, size and
 * INTERNALDATE; then what is left of a key pairs up as changed (`size`, `internalDate` into `found`). What is left
 * after that is `missing` (source only) or `extra` (destination only). Returns the pairs.
 */
function match(source: Item[], destination: Item[], found: Found[]): Array<[Item, Item]> {
  const byKey = new Map<string, Item[]>();
  for (const d of destination) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  const pairs: Array<[Item, Item]> = [];
  const unpaired: Item[] = [];
  for (const s of source) {
    const candidates = byKey.get(s.key) ?? [];
    const i = candidates.findIndex((d) => d.size === s.size && sameDate(d.date, s.date));
    if (i < 0) unpaired.push(s);
    else pairs.push([s, candidates.splice(i, 1)[0]!]);
  }
  for (const s of unpaired) {
    const d = byKey.get(s.key)?.shift();
    if (!d) {
      found.push({ type: 'missing', side: 'source', item: s, detail: null });
      continue;
    }
    pairs.push([s, d]);
    if (d.size !== s.size) {
      found.push({
        type: 'size',
        side: 'destination',
        item: d,
        detail: `source ${s.size} bytes, destination ${d.size}`,
      });
    }
    if (!sameDate(d.date, s.date)) {
      found.push({
        type: 'internalDate',
        side: 'destination',
        item: d,
        detail: `source ${s.date?.toISOString() ?? 'none'}, destination ${d.date?.toISOString() ?? 'none'}`,
      });
    }
  }
  for (const left of byKey.values())
    for (const d of left) found.push({ type: 'extra', side: 'destination', item: d, detail: null });
  return pairs;
}

const sameDate = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);

/** Every message of a folder with its key, size, INTERNALDATE and flags: one FETCH; null when the folder is gone. */
async function readFolder(client: ImapFlow, side: Side, path: string): Promise<FolderRead | null> {
  return examine(client, side, path, async (exists) => {
    const uidvalidity = Number(client.mailbox ? client.mailbox.uidValidity : 0);
    const items: Item[] = [];
    if (exists === 0) return { uidvalidity, items };
    for await (const m of client.fetch('1:*', { ...VERIFY_FETCH_QUERY, headers: [...VERIFY_FETCH_QUERY.headers] })) {
      items.push(itemOf(m));
    }
    if (!client.usable) throw failedCommand(client, side, 'FETCH');
    return { uidvalidity, items };
  });
}

function itemOf(m: FetchMessageObject): Item {
  const headers = m.headers?.toString('utf8') ?? '';
  const messageId = headerValue(headers, 'message-id');
  const key =
    messageId ??
    `hash:${createHash('sha256')
      .update(['date', 'from', 'subject'].map((h) => headerValue(headers, h) ?? '').join('\n'))
      .digest('hex')}`;
  return {
    uid: m.uid,
    key,
    messageId,
    size: m.size ?? 0,
    date: m.internalDate ? new Date(m.internalDate) : null,
    flags: appendableFlags(m.flags ?? []).sort(),
  };
}

/** An unfolded header field's value from a header block, or null when absent or empty. */
function headerValue(block: string, name: string): string | null {
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name}:`));
  const value = line?.slice(name.length + 1).trim();
  return value ? value : null;
}

/**
 * The pairs whose full contents differ: BODY.PEEK[] of both sides in chunks of at most `chunkMessages` messages
 * and `chunkBytes` bytes (sizes are known from the header FETCH), each hashed as it arrives.
 */
async function differentContent(
  src: ImapFlow,
  dst: ImapFlow,
  sourcePath: string,
  destinationPath: string,
  pairs: Array<[Item, Item]>,
  options: VerifyOptions,
): Promise<Array<[Item, Item]>> {
  const maxMessages = options.chunkMessages ?? 100;
  const maxBytes = options.chunkBytes ?? 16 * 1024 * 1024;
  const differ: Array<[Item, Item]> = [];
  for (let i = 0; i < pairs.length;) {
    cancelledCheck(options.signal, 'verification');
    const chunk: Array<[Item, Item]> = [];
    let bytes = 0;
    while (
      i < pairs.length &&
      chunk.length < maxMessages &&
      (chunk.length === 0 || bytes + pairs[i]![0].size <= maxBytes)
    ) {
      bytes += pairs[i]![0].size;
      chunk.push(pairs[i++]!);
    }
    const [left, right] = await Promise.all([
      hashes(
        src,
        'source',
        sourcePath,
        chunk.map(([s]) => s.uid),
      ),
      hashes(
        dst,
        'destination',
        destinationPath,
        chunk.map(([, d]) => d.uid),
      ),
    ]);
    for (const [s, d] of chunk) if (left.get(s.uid) !== right.get(d.uid)) differ.push([s, d]);
  }
  return differ;
}

async function hashes(client: ImapFlow, side: Side, path: string, uids: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  await examine(client, side, path, async () => {
    const set = toSequenceSet([...uids].sort((a, b) => a - b));
    for await (const m of client.fetch(set, { uid: true, source: true }, { uid: true })) {
      if (m.source) out.set(m.uid, sha256(m.source));
    }
    if (!client.usable) throw failedCommand(client, side, 'FETCH BODY.PEEK[]');
  });
  return out;
}

/**
 * The differences of one side, with the subjects of their messages (one FETCH ENVELOPE of just those). `folder`
 * names the source folder the differences belong to (the destination's path is read).
 */
async function withSubjects(
  client: ImapFlow,
  path: string,
  side: Side,
  found: Found[],
  folder = path,
): Promise<ConsistencyDifference[]> {
  const subjects = new Map<number, string | null>();
  if (found.length > 0) {
    await examine(client, side, path, async () => {
      const set = toSequenceSet([...new Set(found.map((f) => f.item.uid))].sort((a, b) => a - b));
      for (const m of await client.fetchAll(set, { uid: true, envelope: true }, { uid: true })) {
        subjects.set(m.uid, m.envelope?.subject ?? null);
      }
    });
  }
  return found.map((f) => ({
    kind: 'mail',
    type: f.type,
    folder,
    side: f.side,
    messageId: f.item.messageId,
    subject: subjects.get(f.item.uid) ?? null,
    date: f.item.date?.toISOString() ?? null,
    size: f.item.size,
    detail: f.detail,
    count: 1,
  }));
}
