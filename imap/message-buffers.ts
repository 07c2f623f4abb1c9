import { ImapSyncError } from './errors';

/**
 * The bytes of message bodies one process holds at once, over all its syncs. Each MULTIAPPEND batch reserves its
 * bodies' size before they are fetched from the source and gives it back once they are appended. Without a
 * budget, memory grows with the syncs running (each mailbox has two lanes with up to two batches of 16 MiB in
 * hand): one batch of 20 mailboxes × 1,000 messages peaked at 934 MB of RSS.
 */
export interface MessageBuffers {
  /**
   * Resolves, in the order asked, once `bytes` fit in the budget (a batch larger than the whole budget, once
   * nothing else is held), to the function that gives them back. Rejects with CANCELLED when `signal` aborts.
   */
  reserve(bytes: number, signal?: AbortSignal): Promise<() => void>;
  /** Bytes reserved now (for the tests and metrics). */
  held(): number;
}

interface Waiter {
  bytes: number;
  grant: () => void;
}

export function createMessageBuffers(limitBytes: number): MessageBuffers {
  let held = 0;
  const waiting: Waiter[] = [];

  const fits = (bytes: number) => held === 0 || held + bytes <= limitBytes;
  // First come, first served: a large batch at the head is not overtaken by smaller ones forever.
  const grantWaiting = () => {
    while (waiting.length && fits(waiting[0]!.bytes)) waiting.shift()!.grant();
  };
  const releaser = (bytes: number) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held -= bytes;
      grantWaiting();
    };
  };

  return {
    held: () => held,
    reserve(bytes, signal) {
      if (signal?.aborted) return Promise.reject(new ImapSyncError('CANCELLED', 'sync cancelled'));
      if (!waiting.length && fits(bytes)) {
        held += bytes;
        return Promise.resolve(releaser(bytes));
      }
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          bytes,
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            held += bytes;
            resolve(releaser(bytes));
          },
        };
        const onAbort = () => {
          const at = waiting.indexOf(waiter);
          if (at >= 0) waiting.splice(at, 1);
          reject(new ImapSyncError('CANCELLED', 'sync cancelled'));
          grantWaiting(); // the head may have been what held the others back
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.push(waiter);
      });
    },
  };
}
