import type { ImapFlow } from 'imapflow';
import { failedCommand } from './folder-sync/context';
import type { Side } from './errors';
import { folderIncluded, listFolders, planMailboxFolders, type FolderFilter, type FolderRole } from './folders';
import { destinationLimits } from './provider-profiles';
import { cancelledCheck, examine, withBothSides, type ReadOnlyOptions, type ReadOnlySide } from './read-only';

/**
 * A read-only look at one mailbox before it is migrated (imapsync's `--justfoldersizes`, Exchange's analysis): both
 * sides are listed, the source folders are mapped the way the sync maps them (`planMailboxFolders`), and every
 * folder's messages are counted and sized on both sides. Nothing changes on either server: folders are opened with
 * EXAMINE and read with STATUS and FETCH RFC822.SIZE only; nothing is selected, created, subscribed or flagged.
 */

/** One side of an analysis: where and as whom. */
export type AnalyzeSide = ReadOnlySide;

export interface AnalyzeOptions extends Omit<ReadOnlyOptions, 'logger'> {
  /** The batch's folder filter (see matchesFolderPattern in imap/folders.ts). */
  folderInclude: string[];
  folderExclude: string[];
  /** The batch's LargeItemMaxBytes: larger messages are skipped as large items. */
  largeItemMaxBytes: number;
}

/** What the sync would do with a source folder. */
export type FolderAction = 'sync' | 'excluded' | 'virtual';

export interface FolderAnalysis {
  sourceFolder: string;
  role: FolderRole | null;
  /** `sync`; `excluded` by the folder filter; `virtual`: a Gmail view (Starred, Important) whose mail the labels carry. */
  action: FolderAction;
  /** Where the sync would copy it; null unless `action` is `sync`. */
  destinationFolder: string | null;
  /** The destination folder exists already (else the sync creates it). */
  destinationExists: boolean;
  sourceMessages: number;
  sourceBytes: number;
  /** What the destination folder holds now (0 when it does not exist yet). */
  destinationMessages: number;
  destinationBytes: number;
  /** Messages over `largeItemMaxBytes`: skipped as large items. */
  largeMessages: number;
  largeBytes: number;
  /** Messages within the batch's limit but over the destination's (provider profile, APPENDLIMIT): skipped as bad items. */
  oversizeMessages: number;
  oversizeBytes: number;
}

/** The folders' numbers added up; `excluded…` are the folders the filter (or Gmail's views) leaves out. */
export interface AnalysisTotals {
  folders: number;
  foldersToSync: number;
  sourceMessages: number;
  sourceBytes: number;
  destinationMessages: number;
  destinationBytes: number;
  largeMessages: number;
  largeBytes: number;
  oversizeMessages: number;
  oversizeBytes: number;
  excludedFolders: number;
  excludedMessages: number;
  excludedBytes: number;
}

export interface MailboxAnalysis {
  folders: FolderAnalysis[];
  totals: AnalysisTotals;
  /** The largest message the destination accepts, when it is known; null = no known limit. */
  destinationMaxMessageBytes: number | null;
}

interface SideReader {
  client: ImapFlow;
  side: Side;
  signal: AbortSignal | undefined;
}

/**
 * Logs in to both sides and analyzes one mailbox (see the module comment). Throws {@link ImapSyncError}: AUTH_FAILED
 * or CONNECTION_FAILED (and the others of imap/errors.ts) with a message naming the side and its `host:port`;
 * CANCELLED when `options.signal` aborted. Gmail's All Mail is counted whole: the sync later copies only what no
 * label folder had.
 */
export async function analyzeMailbox(
  source: AnalyzeSide,
  destination: AnalyzeSide,
  options: AnalyzeOptions,
): Promise<MailboxAnalysis> {
  const { signal } = options;
  return withBothSides(source, destination, { ...options, what: 'analysis' }, async (src, dst) => {
    const [sourceList, destinationList] = await Promise.all([
      listFolders(src, 'source', true),
      listFolders(dst, 'destination', true),
    ]);
    const filter: FolderFilter = { include: options.folderInclude, exclude: options.folderExclude };
    const { candidates, plans } = planMailboxFolders(
      sourceList.folders,
      destinationList,
      filter,
      source.endpoint.provider,
    );
    const maxBytes = destinationLimits(
      destination.endpoint.provider,
      dst.capabilities.get('APPENDLIMIT'),
    ).maxMessageBytes;
    const destinationCount = new Map(destinationList.folders.map((f) => [f.path, f.status?.messages ?? 0]));
    const [sourceSizes, destinationSizes] = await Promise.all([
      sizesOf(
        { client: src, side: 'source', signal },
        candidates.filter((f) => f.selectable).map((f) => ({ path: f.path, messages: f.status?.messages })),
      ),
      sizesOf(
        { client: dst, side: 'destination', signal },
        plans
          .filter((p) => p.exists)
          .map((p) => ({ path: p.destinationPath, messages: destinationCount.get(p.destinationPath) })),
      ),
    ]);
    const folders = candidates.map((f): FolderAnalysis => {
      const plan = plans.find((p) => p.source === f);
      const sizes = sourceSizes.get(f.path) ?? [];
      const there = plan?.exists ? (destinationSizes.get(plan.destinationPath) ?? []) : [];
      const large = plan ? sizes.filter((s) => s > options.largeItemMaxBytes) : [];
      const oversize =
        plan && maxBytes !== null ? sizes.filter((s) => s <= options.largeItemMaxBytes && s > maxBytes) : [];
      return {
        sourceFolder: f.path,
        role: f.role,
        action: plan ? 'sync' : folderIncluded(filter, f.parts) ? 'virtual' : 'excluded',
        destinationFolder: plan?.destinationPath ?? null,
        destinationExists: plan?.exists ?? false,
        sourceMessages: sizes.length,
        sourceBytes: sum(sizes),
        destinationMessages: there.length,
        destinationBytes: sum(there),
        largeMessages: large.length,
        largeBytes: sum(large),
        oversizeMessages: oversize.length,
        oversizeBytes: sum(oversize),
      };
    });
    return { folders, totals: totalsOf(folders), destinationMaxMessageBytes: maxBytes };
  });
}

const sum = (sizes: number[]) => sizes.reduce((n, s) => n + s, 0);

/** The numeric fields of a folder's analysis. */
type CountKey = { [K in keyof FolderAnalysis]: FolderAnalysis[K] extends number ? K : never }[keyof FolderAnalysis];

function totalsOf(folders: FolderAnalysis[]): AnalysisTotals {
  const synced = folders.filter((f) => f.action === 'sync');
  const left = folders.filter((f) => f.action !== 'sync');
  const add = (list: FolderAnalysis[], key: CountKey) => list.reduce((n, f) => n + f[key], 0);
  // Two source folders never share a destination folder (planFolders), so the destination adds up without doubles.
  return {
    folders: folders.length,
    foldersToSync: synced.length,
    sourceMessages: add(folders, 'sourceMessages'),
    sourceBytes: add(folders, 'sourceBytes'),
    destinationMessages: add(synced, 'destinationMessages'),
    destinationBytes: add(synced, 'destinationBytes'),
    largeMessages: add(synced, 'largeMessages'),
    largeBytes: add(synced, 'largeBytes'),
    oversizeMessages: add(synced, 'oversizeMessages'),
    oversizeBytes: add(synced, 'oversizeBytes'),
    excludedFolders: left.length,
    excludedMessages: add(left, 'sourceMessages'),
    excludedBytes: add(left, 'sourceBytes'),
  };
}

/**
 * The message sizes of each folder (path → RFC822.SIZE of every message), one folder at a time on one connection.
 * A folder LIST-STATUS says is empty is not opened; one that vanished since the LIST counts as empty.
 */
async function sizesOf(
  reader: SideReader,
  folders: Array<{ path: string; messages: number | undefined }>,
): Promise<Map<string, number[]>> {
  const { client, side, signal } = reader;
  const sizes = new Map<string, number[]>();
  for (const f of folders) {
    cancelledCheck(signal, 'analysis');
    if (f.messages === 0) {
      sizes.set(f.path, []);
      continue;
    }
    const list = await examine(client, side, f.path, async (exists) => {
      const found: number[] = [];
      if (exists > 0) {
        for await (const m of client.fetch('1:*', { size: true })) found.push(m.size ?? 0);
        if (!client.usable) throw failedCommand(client, side, 'FETCH RFC822.SIZE');
      }
      return found;
    });
    if (list) sizes.set(f.path, list);
  }
  return sizes;
}
