import type { ImapFlow, ListResponse } from 'imapflow';
import { classifyImapError, ImapSyncError, type Side } from './errors';
import { PROVIDER_PROFILES, type ImapProvider } from './provider-profiles';

/** Special-use roles (RFC 6154) the engine maps by role rather than by name. */
export type FolderRole = 'Sent' | 'Drafts' | 'Trash' | 'Junk' | 'Archive' | 'All' | 'Flagged' | 'Important';
const ROLES: readonly FolderRole[] = ['Sent', 'Drafts', 'Trash', 'Junk', 'Archive', 'All', 'Flagged', 'Important'];

export interface FolderInfo {
  /** Unicode path as the server names it (prefix and delimiter included). */
  path: string;
  /** The path below the personal namespace prefix, split on the server's delimiter. INBOX is ['INBOX']. */
  parts: string[];
  delimiter: string;
  role: FolderRole | null;
  subscribed: boolean;
  /** \Noselect / \NonExistent: a hierarchy node without messages. */
  selectable: boolean;
  /** With `withStatus`: STATUS of the folder (one LIST-STATUS command where the server has it). */
  status?: { messages: number; uidNext: number; uidvalidity: number; highestModseq: bigint | null };
}

export interface Namespace {
  prefix: string;
  delimiter: string;
}

export function personalNamespace(client: ImapFlow, list: ListResponse[]): Namespace {
  const ns = client.namespace;
  const delimiter = ns?.delimiter ?? list.find((f) => f.delimiter)?.delimiter ?? '/';
  return { prefix: ns?.prefix ?? '', delimiter };
}

/**
 * The role the server gives a folder in LIST (never one guessed from its name). imapflow knows only RFC 6154's
 * attributes, so RFC 8457's \\Important (Gmail's Important view) is read from the LIST flags themselves.
 */
function roleOf(f: ListResponse): FolderRole | null {
  const advertised = [
    ...(f.specialUseSource === 'extension' && f.specialUse ? [f.specialUse] : []),
    ...(f.flags ?? []),
  ];
  for (const flag of advertised) {
    const name = flag.replace(/^\\/, '');
    if ((ROLES as readonly string[]).includes(name)) return name as FolderRole;
  }
  return null;
}

/** Every folder of the personal namespace (other users' and shared namespaces are not part of the mailbox). */
export async function listFolders(
  client: ImapFlow,
  side: Side,
  withStatus = false,
): Promise<{ namespace: Namespace; folders: FolderInfo[] }> {
  let list: ListResponse[];
  try {
    list = await client.list(
      withStatus
        ? { statusQuery: { messages: true, uidNext: true, uidValidity: true, highestModseq: true } }
        : undefined,
    );
  } catch (err) {
    throw classifyImapError(err, side);
  }
  const namespace = personalNamespace(client, list);
  const others = [...(client.namespaces?.other || []), ...(client.namespaces?.shared || [])]
    .map((n) => n.prefix)
    .filter((p) => p && p !== namespace.prefix);
  const folders: FolderInfo[] = [];
  for (const f of list) {
    if (others.some((p) => f.path.startsWith(p))) continue;
    const isInbox = f.path.toUpperCase() === 'INBOX';
    let rel = f.path;
    if (!isInbox && namespace.prefix) {
      if (f.path.startsWith(namespace.prefix)) rel = f.path.slice(namespace.prefix.length);
      else if (`${f.path}${f.delimiter}` === namespace.prefix) continue; // the prefix node itself, e.g. "INBOX." listed as INBOX
    }
    const flags = [...f.flags].map((x) => x.toLowerCase());
    folders.push({
      path: f.path,
      parts: isInbox ? ['INBOX'] : f.delimiter ? rel.split(f.delimiter) : [rel],
      delimiter: f.delimiter || namespace.delimiter,
      role: roleOf(f),
      subscribed: f.subscribed === true,
      selectable: !flags.includes('\\noselect') && !flags.includes('\\nonexistent'),
      status:
        f.status && f.status.uidValidity !== undefined && f.status.uidNext !== undefined
          ? {
              messages: f.status.messages ?? 0,
              uidNext: f.status.uidNext,
              uidvalidity: Number(f.status.uidValidity),
              highestModseq: f.status.highestModseq ?? null,
            }
          : undefined,
    });
  }
  return { namespace, folders };
}

/** What the destination calls a source folder. */
export interface FolderPlan {
  source: FolderInfo;
  destinationPath: string;
  /** The destination folder already exists. */
  exists: boolean;
  /** The destination folder is subscribed (as listed, then as this sync left it). */
  subscribed: boolean;
}

export interface FolderFilter {
  /** Patterns (see {@link matchesFolderPattern}); empty = every folder. */
  include: string[];
  exclude: string[];
}

/**
 * Folder patterns match the source path with '/' between levels, case-insensitively: `*` matches anything,
 * `%` anything but '/', and a pattern without wildcards also matches the folder's subfolders.
 * `Archive/2019`, `Spam`, `Archive/*`, `%/Old`.
 */
export function matchesFolderPattern(pattern: string, parts: string[]): boolean {
  const name = parts.join('/');
  const escaped = pattern
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/%/g, '[^/]*');
  const wild = /[*%]/.test(pattern);
  return new RegExp(`^${escaped}${wild ? '' : '(/.*)?'}$`, 'i').test(name);
}

export function folderIncluded(filter: FolderFilter, parts: string[]): boolean {
  if (filter.include.length && !filter.include.some((p) => matchesFolderPattern(p, parts))) return false;
  return !filter.exclude.some((p) => matchesFolderPattern(p, parts));
}

/** Character that replaces the destination's delimiter inside a source folder name ("a.b" onto a '.' server). */
export const DELIMITER_SUBSTITUTE: Record<string, string> = { '.': '_', '/': '_' };

/**
 * Maps source folders to destination paths: INBOX to INBOX, special-use folders to the destination's folder of
 * the same role (Sent to "Sent Items"), everything else by name under the destination's prefix and delimiter.
 * Roles the destination lacks keep their names. Gmail's virtual folders (\All, \Flagged, \Important) are
 * dropped: their messages are copied from the label folders (the caller syncs \All last, without duplicates).
 */
export function planFolders(
  source: FolderInfo[],
  destination: { namespace: Namespace; folders: FolderInfo[] },
  filter: FolderFilter,
  opts: { skipVirtual?: boolean } = {},
): FolderPlan[] {
  const destByRole = new Map<FolderRole, FolderInfo>();
  for (const f of destination.folders) if (f.role && !destByRole.has(f.role)) destByRole.set(f.role, f);
  const destPaths = new Set(destination.folders.map((f) => f.path));
  const destSubscribed = new Set(destination.folders.filter((f) => f.subscribed).map((f) => f.path));
  const usedRoles = new Set<FolderRole>();
  const planned = new Set<string>();
  const plans: FolderPlan[] = [];
  for (const f of source) {
    if (!folderIncluded(filter, f.parts)) continue;
    if (opts.skipVirtual && (f.role === 'Flagged' || f.role === 'Important')) continue;
    let destinationPath: string;
    // Gmail's All Mail lands in the destination's Archive when it has no All Mail of its own: what is left to
    // copy from it (after the labels) is exactly the archived mail.
    const roleTarget =
      f.role && !usedRoles.has(f.role)
        ? (destByRole.get(f.role) ?? (f.role === 'All' && opts.skipVirtual ? destByRole.get('Archive') : undefined))
        : undefined;
    if (f.parts.length === 1 && f.parts[0]?.toUpperCase() === 'INBOX') {
      destinationPath = 'INBOX';
    } else if (roleTarget && f.role) {
      usedRoles.add(f.role);
      destinationPath = roleTarget.path;
    } else {
      const d = destination.namespace.delimiter;
      const sub = DELIMITER_SUBSTITUTE[d] ?? '_';
      let parts = f.parts.map((p) => (d ? p.split(d).join(sub) : p));
      // A child of INBOX on a prefix-less source ("INBOX/Sub") stays a child of INBOX on a destination whose
      // prefix is "INBOX." ("INBOX.Sub", not "INBOX.INBOX.Sub").
      if (
        parts.length > 1 &&
        parts[0]?.toUpperCase() === 'INBOX' &&
        destination.namespace.prefix.toUpperCase() === `INBOX${d}`
      ) {
        parts = parts.slice(1);
      }
      destinationPath = destination.namespace.prefix + parts.join(d);
    }
    // Two source folders never share a destination folder ("Sub" and "INBOX/Sub" onto an "INBOX." server).
    if (planned.has(destinationPath.toLowerCase())) {
      let n = 2;
      while (planned.has(`${destinationPath}_${n}`.toLowerCase())) n++;
      destinationPath = `${destinationPath}_${n}`;
    }
    planned.add(destinationPath.toLowerCase());
    plans.push({
      source: f,
      destinationPath,
      exists: destPaths.has(destinationPath),
      subscribed: destSubscribed.has(destinationPath),
    });
  }
  return plans;
}

/**
 * The folder plan of a mailbox sync, as the engine makes it: every source folder that holds messages or is a
 * leaf of the hierarchy (a `\Noselect` parent is created through its children), mapped by {@link planFolders}
 * with the source provider's rules (Gmail's virtual views dropped). The sync and the analysis
 * (imap/analyze.ts) both plan with it, so what an analysis shows is what a sync does.
 */
export function planMailboxFolders(
  source: FolderInfo[],
  destination: { namespace: Namespace; folders: FolderInfo[] },
  filter: FolderFilter,
  sourceProvider: ImapProvider,
): { candidates: FolderInfo[]; plans: FolderPlan[] } {
  const candidates = source.filter((f) => f.selectable || !source.some((o) => o.path.startsWith(f.path + f.delimiter)));
  const plans = planFolders(candidates, destination, filter, {
    skipVirtual: PROVIDER_PROFILES[sourceProvider].gmailFolders,
  });
  return { candidates, plans };
}

/**
 * Creates a destination folder (and its parents) unless it exists; subscribes it when the source does and it is not. With `materialize`
 * (a folder's first sync), a folder that was already listed is opened once with STATUS: a server may list
 * folders that do not exist yet (Dovecot's `auto =` special-use folders) and create them on first access.
 * Doing that here, on the one connection that prepares every folder, keeps those creations out of the
 * parallel folder lanes, where two sessions of one user creating folders can deadlock on Dovecot's
 * mailbox-list locks until a lock times out.
 */
export async function ensureDestinationFolder(
  client: ImapFlow,
  plan: FolderPlan,
  options: { materialize: boolean },
): Promise<void> {
  let created = false;
  if (!plan.exists && plan.destinationPath.toUpperCase() !== 'INBOX') {
    try {
      created = (await client.mailboxCreate(plan.destinationPath)).created;
    } catch (err) {
      const e = classifyImapError(err, 'destination');
      if (e.code === 'SERVER_ERROR' && /ALREADYEXISTS|already exists/i.test(e.message)) {
        // created meanwhile
      } else if (e.code === 'SERVER_ERROR') {
        throw new ImapSyncError(
          'FOLDER_CREATE_FAILED',
          `destination refused to create folder "${plan.destinationPath}": ${e.message}`,
          {
            side: 'destination',
            cause: err,
          },
        );
      } else {
        throw e;
      }
    }
    plan.exists = true;
  }
  // A refusal here is not the folder's end: its SELECT later reports what is wrong with it, if anything.
  if (options.materialize && !created) {
    await unlessRefused(() => client.status(plan.destinationPath, { uidValidity: true }));
  }
  // imapflow subscribes what it creates. The destination's subscription follows the source's, with a command only
  // where it differs: a folder the source does not subscribe stays subscribed if it already was.
  if (created) plan.subscribed = true;
  await unlessRefused(async () => {
    if (plan.source.subscribed && !plan.subscribed) {
      await client.mailboxSubscribe(plan.destinationPath);
      plan.subscribed = true;
    } else if (!plan.source.subscribed && created) {
      await client.mailboxUnsubscribe(plan.destinationPath);
      plan.subscribed = false;
    }
  });
}

/** Runs `fn`, ignoring a server's NO/BAD to it; connection and other errors still throw. */
async function unlessRefused(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const e = classifyImapError(err, 'destination');
    if (e.code !== 'SERVER_ERROR') throw e;
  }
}
