import { failedCommand, toSequenceSet, type FolderContext } from './context';

/**
 * Delete-on-destination: messages in the map that are no longer on the source are deleted and expunged on the
 * destination and forgotten. Returns how many destination messages were deleted.
 */
export async function deleteRemoved(ctx: FolderContext): Promise<number> {
  const { source, destination, store, srcPath, state } = ctx;
  const all = await source.search({ all: true }, { uid: true });
  if (!all) throw failedCommand(source, 'source', 'UID SEARCH ALL');
  const present = new Set(all);
  const map = await store.mapped(srcPath, state.uidvalidity, 0);
  const gone = [...map.values()].filter((m) => !present.has(m.sourceUid));
  if (!gone.length) return 0;
  const dst = gone
    .filter((m) => m.state === 'copied' && m.destinationUid !== null)
    .map((m) => m.destinationUid as number);
  if (dst.length && !(await destination.messageDelete(toSequenceSet(dst.sort((x, y) => x - y)), { uid: true }))) {
    throw failedCommand(destination, 'destination', 'UID EXPUNGE');
  }
  await store.forget(
    srcPath,
    state.uidvalidity,
    gone.map((m) => m.sourceUid),
  );
  return dst.length;
}
