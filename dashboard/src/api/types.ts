import type { BatchCommand, BatchStatus, MailboxStatus } from '../../../domain/batch-status';

export type { BatchCommand, BatchStatus, MailboxStatus };

/** GET /me */
export interface Me {
  name: string;
  owner: string;
  role: 'admin' | 'viewer';
}

/** GET /statistics */
export interface Statistics {
  totalMailboxes: number;
  syncedMailboxes: number;
  finalizedMailboxes: number;
  failedMailboxes: number;
}

/** One row of GET /batches */
export interface BatchSummary {
  id: string;
  name: string;
  status: BatchStatus;
  statusLabel: string;
  percentageSynced: number;
  total: number;
  synced: number;
  finalized: number;
  failed: number;
  allowedCommands: BatchCommand[];
  createdAt: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export interface EndpointRef {
  id: string;
  name: string;
  host: string;
}

/** GET /batches/:id */
export interface BatchDetail extends BatchSummary {
  type: string;
  direction: string;
  createdBy: string;
  startedAt: string | null;
  initialSyncAt: string | null;
  initialSyncDurationMs: number | null;
  lastSyncedAt: string | null;
  completeAfter: string | null;
  startAfter: string | null;
  /** The seed's Requested: rows of the batch's CSV. */
  requested?: number;
  sourceEndpoint: EndpointRef;
  destinationEndpoint: EndpointRef;
  /** Mailboxes by status. */
  counts?: {
    total: number;
    queued: number;
    syncing: number;
    synced: number;
    failed: number;
    stopped: number;
    completing: number;
    finalized: number;
  };
  /** The pass running now (initial, incremental or final sync), if any. */
  pass?: { kind: string; startedAt: string; scheduled: number; finished: number } | null;
  recentCommands?: { command: string; by: string; at: string; outcome: string; status?: string }[];
  workflowId: string;
  temporalUiUrl: string | null;
  nextIncrementalSyncAt: string | null;
  autoStopAt: string | null;
  removeAt: string | null;
  autoStart?: boolean;
  autoComplete?: boolean;
  badItemLimit?: number;
  largeItemLimit?: number;
  folderInclude?: string[];
  folderExclude?: string[];
  lastError?: string | null;
}

/** POST /batches body; PATCH takes the editable subset. */
export interface BatchInput {
  name: string;
  sourceEndpointId: string;
  destinationEndpointId: string;
  csv: string;
  startAfter?: string | null;
  completeAfter?: string | null;
  autoStart?: boolean;
  autoComplete?: boolean;
  badItemLimit?: number;
  largeItemLimit?: number;
  folderInclude?: string[];
  folderExclude?: string[];
}

export type BatchEditInput = Partial<Omit<BatchInput, 'name' | 'csv' | 'autoStart'>>;

/** One row of the migration users status report. */
export interface MailboxRow {
  id: string;
  emailAddress: string;
  userName?: string;
  currentFolder?: string | null;
  foldersTotal?: number;
  foldersSynced?: number;
  status: MailboxStatus;
  itemsSynced: number;
  itemsSkipped: number;
  itemsTotal?: number;
  bytesSynced: number;
  lastSyncedAt: string | null;
  lastError: string | null;
  lastErrorCode?: string | null;
}

export interface SkippedItem {
  id: string | number;
  folder: string;
  subject: string | null;
  sizeBytes: number | null;
  internalDate: string | null;
  reason: string;
  createdAt?: string;
}

/** One sample of GET /batches/:id/progress */
export interface ProgressPoint {
  at: string;
  synced: number;
  failed: number;
  finalized: number;
  itemsSynced: number;
}

export type Security = 'none' | 'starttls' | 'tls';
export type AuthMethod = 'plain' | 'login' | 'xoauth2';

/** GET /endpoints/:id (the admin password is write-only and never returned). */
export interface Endpoint {
  id: string;
  name: string;
  type: 'imap';
  provider: string;
  host: string;
  port: number;
  security: Security;
  acceptUntrustedCerts: boolean;
  authMethod: AuthMethod;
  adminUser: string | null;
  hasAdminPassword: boolean;
  maxConcurrentMigrations: number;
  maxConcurrentIncrementalSyncs: number;
  /** GET /endpoints/:id only: the batches that use the endpoint (editing is refused while one of them runs). */
  batches?: { id: string; name: string; status: string }[];
  createdAt: string;
  updatedAt: string;
}

/** The settings an admin sends to create or edit an endpoint: the endpoint's own fields, plus write-only ones. */
export type EndpointInput = Pick<
  Endpoint,
  | 'name'
  | 'type'
  | 'provider'
  | 'host'
  | 'port'
  | 'security'
  | 'acceptUntrustedCerts'
  | 'authMethod'
  | 'maxConcurrentMigrations'
  | 'maxConcurrentIncrementalSyncs'
> & {
  adminUser?: string | null;
  /** Write-only: sent to set or replace it, never returned. */
  adminPassword?: string | null;
  /** Create and unsaved test only. */
  testMailbox?: TestMailbox | null;
};

/** A mailbox to log in as during a connection test; used for the test only, never stored. */
export interface TestMailbox {
  userName: string;
  password?: string | null;
}

export interface ConnectionTestResult {
  ok: boolean;
  code: string;
  message: string;
}

/** One problem of a refused CSV (`CSV_INVALID`: `details.problems`); line 1 is the header. */
export interface CsvLineError {
  line?: number;
  item?: number;
  column?: string;
  code?: string;
  message: string;
}
