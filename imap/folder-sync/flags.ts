import { appendableFlags } from '../multiappend';
import { failedCommand, toSequenceSet, type FolderContext } from './context';

/**
 * Sets the destination's flags to the source's for messages copied in earlier passes, up to source UID `upTo`:
 * with CONDSTORE only those changed since the checkpoint's HIGHESTMODSEQ, all of them when `full` (or without
 * CONDSTORE). Returns how many destination messages were changed.
 */
export async function syncFlags(ctx: FolderContext, upTo: number, full = false): Promise<number> {
  const changed = await sourceFlags(ctx, upTo, full);
  if (!changed.length) return 0;
  const map = await ctx.store.mappedUids(
    ctx.srcPath,
    ctx.state.uidvalidity,
    changed.map((c) => c.uid),
  );
  const targets = new Map<number, string[]>();
  for (const c of changed) {
    const d = map.get(c.uid);
    if (d?.state === 'copied' && d.destinationUid !== null) targets.set(d.destinationUid, c.flags);
  }
  if (!targets.size) return 0;
  return storeDifferences(ctx, targets);
}

async function sourceFlags(
  ctx: FolderContext,
  upTo: number,
  full: boolean,
): Promise<Array<{ uid: number; flags: string[] }>> {
  const { state, checkpoint } = ctx;
  const useModseq = !full && state.highestModseq !== null && checkpoint?.highestModseq != null;
  if (useModseq && state.highestModseq === checkpoint?.highestModseq) return [];
  const changed: Array<{ uid: number; flags: string[] }> = [];
  const opts = useModseq ? { uid: true, changedSince: checkpoint!.highestModseq! } : { uid: true };
  for await (const m of ctx.source.fetch(`1:${upTo}`, { uid: true, flags: true }, opts)) {
    if (m.uid <= upTo) changed.push({ uid: m.uid, flags: appendableFlags(m.flags ?? []) });
  }
  return changed;
}

/** Compares the wanted flags with the destination's and stores the differences, one UID STORE per flag set. */
async function storeDifferences(ctx: FolderContext, targets: Map<number, string[]>): Promise<number> {
  const { destination } = ctx;
  const current = new Map<number, string[]>();
  for await (const m of destination.fetch(
    toSequenceSet([...targets.keys()].sort((x, y) => x - y)),
    { uid: true, flags: true },
    { uid: true },
  )) {
    current.set(m.uid, appendableFlags(m.flags ?? []));
  }
  const groups = new Map<string, number[]>();
  for (const [uid, flags] of targets) {
    const have = current.get(uid);
    if (!have) continue;
    const want = [...flags].sort();
    if (want.join(' ') === [...have].sort().join(' ')) continue;
    const key = want.join(' ');
    groups.set(key, [...(groups.get(key) ?? []), uid]);
  }
  let n = 0;
  for (const [key, uids] of groups) {
    const flags = key ? key.split(' ') : [];
    const ok = await destination.messageFlagsSet(toSequenceSet(uids.sort((x, y) => x - y)), flags, {
      uid: true,
      silent: true,
    } as never);
    if (!ok && !destination.usable) throw failedCommand(destination, 'destination', 'UID STORE');
    n += uids.length;
  }
  return n;
}
