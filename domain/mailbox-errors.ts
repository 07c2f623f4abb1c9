/**
 * Every code a mailbox's error can carry: the users report's `lastErrorCode`, the type of a failed sync's
 * `ApplicationFailure`, the CLI's and the dashboard's error column. One table for the whole product: who raises the
 * code, its retry class, and what it means.
 *
 * Retry classes: **mailbox** fails the mailbox at once (retrying cannot help: a wrong password, a limit reached),
 * **transient** is retried by Temporal with backoff, the next attempt resuming from PostgreSQL; **cancelled** is a
 * Stop. Messages that go with the codes never contain passwords or tokens.
 */
export type RetryClass = 'mailbox' | 'transient' | 'cancelled';

export interface MailboxErrorInfo {
  /** `imap`: the IMAP engine (imap/errors.ts); `dav`: the calendar and contact engine (dav/errors.ts); `activity`: the sync activity; `db`: PostgreSQL (db/errors.ts); `workflow`: a sync that ran out of retries; `worker`: a restarted worker (worker/reclaim-syncs.ts). */
  from: 'imap' | 'dav' | 'activity' | 'db' | 'workflow' | 'worker';
  retry: RetryClass;
  meaning: string;
}

export const MAILBOX_ERROR_CODES = {
  AUTH_FAILED: {
    from: 'imap',
    retry: 'mailbox',
    meaning: 'the server refused the login (wrong password, disabled account, bad token)',
  },
  TOKEN_REFUSED: {
    from: 'imap',
    retry: 'mailbox',
    meaning:
      "the endpoint's token provider refused to mint an access token (service-account key, client secret or refresh token revoked, no domain-wide delegation, unknown user)",
  },
  TOKEN_UNAVAILABLE: {
    from: 'imap',
    retry: 'transient',
    meaning: "the endpoint's token provider (Google, Microsoft) could not be reached or failed",
  },
  MAILBOX_NOT_FOUND: {
    from: 'imap',
    retry: 'mailbox',
    meaning: 'the account or a required folder does not exist (or the mailbox left the batch)',
  },
  BAD_ITEM_LIMIT_EXCEEDED: {
    from: 'imap',
    retry: 'mailbox',
    meaning: "the destination refused more messages than the batch's BadItemLimit",
  },
  LARGE_ITEM_LIMIT_EXCEEDED: {
    from: 'imap',
    retry: 'mailbox',
    meaning: "more messages over the size limit than the batch's LargeItemLimit",
  },
  TLS_FAILED: { from: 'imap', retry: 'mailbox', meaning: 'the TLS handshake or certificate check failed' },
  FOLDER_CREATE_FAILED: { from: 'imap', retry: 'mailbox', meaning: 'the destination refused to create a folder' },
  CONNECTION_FAILED: {
    from: 'imap',
    retry: 'transient',
    meaning: 'the server could not be reached (refused, DNS, timeout)',
  },
  CONNECTION_LOST: {
    from: 'imap',
    retry: 'transient',
    meaning: 'the connection dropped or the server said BYE during the sync',
  },
  THROTTLED: { from: 'imap', retry: 'transient', meaning: 'the server asked us to slow down' },
  QUOTA_BUDGET_EXHAUSTED: {
    from: 'imap',
    retry: 'transient',
    meaning:
      "an endpoint's daily byte budget (its own, or each mailbox's, as Gmail's) is spent: the sync waits, heartbeating, until the next UTC day or a raised budget; the message says when it resumes. The batch goes on",
  },
  SERVER_ERROR: {
    from: 'imap',
    retry: 'transient',
    meaning: 'the server failed a command in a way that may pass on retry',
  },
  PROTOCOL_ERROR: { from: 'imap', retry: 'transient', meaning: "the server's response could not be understood" },
  MAILBOX_BUSY: {
    from: 'imap',
    retry: 'transient',
    meaning: 'another sync of the same mailbox is still running (a retry that overtook it)',
  },
  MAILBOX_LOCK_LOST: {
    from: 'imap',
    retry: 'transient',
    meaning: "the mailbox lock's database connection dropped mid-sync, so the sync stopped",
  },
  CANCELLED: { from: 'imap', retry: 'cancelled', meaning: 'the sync was cancelled (Stop)' },
  DAV_AUTH_FAILED: {
    from: 'dav',
    retry: 'mailbox',
    meaning: 'the CalDAV or CardDAV server refused the login (401): wrong password or token',
  },
  DAV_UNREACHABLE: {
    from: 'dav',
    retry: 'transient',
    meaning: 'the CalDAV or CardDAV service could not be reached (refused, DNS, timeout) while IMAP may work',
  },
  DAV_NOT_FOUND: {
    from: 'dav',
    retry: 'mailbox',
    meaning: 'discovery found no principal or home set for the account on the CalDAV or CardDAV service',
  },
  DAV_COLLECTION_CREATE_FAILED: {
    from: 'dav',
    retry: 'mailbox',
    meaning: 'the destination refused to create a calendar or an address book',
  },
  DAV_SERVER_ERROR: {
    from: 'dav',
    retry: 'transient',
    meaning: 'the CalDAV or CardDAV server failed a request (5xx, throttling, an answer that could not be read)',
  },
  CREDENTIALS_MISSING: {
    from: 'activity',
    retry: 'mailbox',
    meaning: 'the mailbox has no password and its endpoint no admin login',
  },
  SECRET_UNREADABLE: {
    from: 'activity',
    retry: 'mailbox',
    meaning: 'a stored password cannot be opened with this secret key',
  },
  ENDPOINT_NOT_FOUND: {
    from: 'activity',
    retry: 'mailbox',
    meaning: "the batch's source or destination endpoint no longer exists",
  },
  SYNC_ERROR: {
    from: 'activity',
    retry: 'transient',
    meaning: 'an unexpected error during the sync (the message says which)',
  },
  DB_POOL_TIMEOUT: {
    from: 'db',
    retry: 'transient',
    meaning: 'no PostgreSQL connection became free, or opened, within its bound',
  },
  DB_STATEMENT_TIMEOUT: {
    from: 'db',
    retry: 'transient',
    meaning: 'a statement ran longer than statement_timeout, or its answer never came',
  },
  DB_LOCK_TIMEOUT: {
    from: 'db',
    retry: 'transient',
    meaning: 'a statement waited longer than lock_timeout for a lock',
  },
  DB_UNAVAILABLE: {
    from: 'db',
    retry: 'transient',
    meaning: 'PostgreSQL refused or dropped the connection (down, restarting, too many connections)',
  },
  WORKER_RESTARTED: {
    from: 'worker',
    retry: 'transient',
    meaning: 'the worker running the sync died and has restarted: it gave the sync back to run again at once',
  },
  SYNC_TIMEOUT: {
    from: 'workflow',
    retry: 'mailbox',
    meaning: 'the sync timed out on every attempt (its heartbeat or start-to-close timeout)',
  },
  SYNC_FAILED: {
    from: 'workflow',
    retry: 'mailbox',
    meaning: 'the sync failed on every attempt with an error that has no code of its own',
  },
} as const satisfies Record<string, MailboxErrorInfo>;

export type MailboxErrorCode = keyof typeof MAILBOX_ERROR_CODES;

/** The codes one part of the product raises. */
export type MailboxErrorCodeFrom<F extends MailboxErrorInfo['from']> = {
  [K in MailboxErrorCode]: (typeof MAILBOX_ERROR_CODES)[K]['from'] extends F ? K : never;
}[MailboxErrorCode];
