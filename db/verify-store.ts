import type { Pool } from 'pg';
import type { VerifyStore } from '../imap/verify';
import { selectCheckpoints } from './folder-checkpoints';
import { selectNotCopied } from './message-map';

/** What a verification of `mailboxId` reads of its sync's records: checkpoints and the messages left out. */
export function createVerifyStore(pool: Pool, mailboxId: string): VerifyStore {
  return {
    async destinations() {
      const checkpoints = await selectCheckpoints(pool, mailboxId);
      return new Map([...checkpoints.values()].map((c) => [c.sourceFolder, c.destinationFolder]));
    },
    notCopied: () => selectNotCopied(pool, mailboxId),
  };
}
