/**
 * The API's replies and bodies as the dashboard uses them: derived from the zod schemas that validate and answer
 * them (api/contract/), so the dashboard cannot drift from the API. Type imports only: nothing of the server
 * reaches the bundle.
 */
import type { z } from 'zod';
import type { auditEntrySchema, listAuditQuery } from '../../../api/contract/audit';
import type { batchDetailSchema, batchListItem, createBatchBody, editBatchBody } from '../../../api/contract/batches';
import type { endpointSchema, testResultSchema } from '../../../api/contract/endpoints';
import type {
  mailboxCommandReply,
  mailboxOverridesSchema,
  mailboxPasswordBody,
  mailboxPasswordReply,
  mailboxSchema,
  migrationUserSchema,
  moveMailboxBody,
  progressSchema,
  setMailboxBody,
  skippedItemSchema,
  statisticsSchema,
} from '../../../api/contract/mailboxes';
import type { healthSchema } from '../../../api/contract/system';
import type { BatchCommand, BatchStatus, MailboxStatus } from '../../../domain/batch-status';
import type { MailboxCommand } from '../../../domain/mailbox-commands';

export type { BatchCommand, BatchStatus, MailboxCommand, MailboxStatus };

/** GET /me */
export interface Me {
  name: string;
  owner: string;
  role: 'admin' | 'viewer';
}

/** GET /health (200; a 503 carries the same `checks` in its error details) */
export type Health = z.output<typeof healthSchema>;

/** One entry of GET /audit, and its filters */
export type AuditEntry = z.output<typeof auditEntrySchema>;
export type AuditQuery = Omit<z.input<typeof listAuditQuery>, 'page' | 'pageSize'> & { page: number; pageSize: number };

/** GET /statistics */
export type Statistics = z.output<typeof statisticsSchema>;

/** One row of GET /batches */
export type BatchSummary = z.output<typeof batchListItem>;

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

/** GET /batches/:id */
export type BatchDetail = z.output<typeof batchDetailSchema>;

export type EndpointRef = BatchDetail['sourceEndpoint'];

/** POST /batches body (the mailboxes as CSV); PATCH takes the editable subset. */
export type BatchInput = Omit<z.input<typeof createBatchBody>, 'csv' | 'mailboxes'> & { csv: string };

export type BatchEditInput = z.input<typeof editBatchBody>;

/** One row of the migration users status report. */
export type MailboxRow = z.output<typeof mailboxSchema>;

export type SkippedItem = z.output<typeof skippedItemSchema>;

/** GET /mailboxes/:id: the report row with its batch, its own settings and the commands it allows now. */
export type MigrationUser = z.output<typeof migrationUserSchema>;

export type MailboxOverrides = z.output<typeof mailboxOverridesSchema>;

/** POST /mailboxes/:id/set body: only the fields given change; null puts one back to the batch's value. */
export type SetMailboxInput = z.input<typeof setMailboxBody>;

/** POST /mailboxes/:id/set-password body: the side's new password, and whether to resume the mailbox. */
export type MailboxPasswordInput = z.input<typeof mailboxPasswordBody>;

/**
 * A per-mailbox command with its body: `POST /mailboxes/:id/<command>`; `set-password` is not in the status table
 * (a password can change whatever the mailbox is doing), but goes the same way.
 */
export type MailboxAction =
  | { command: Exclude<MailboxCommand, 'move' | 'set'> }
  | { command: 'move'; body: z.input<typeof moveMailboxBody> }
  | { command: 'set'; body: SetMailboxInput }
  | { command: 'set-password'; body: MailboxPasswordInput };

export type MailboxCommandReply = z.output<typeof mailboxCommandReply> | z.output<typeof mailboxPasswordReply>;

/** One sample of GET /batches/:id/progress */
export type ProgressPoint = z.output<typeof progressSchema>['items'][number];

/** GET /endpoints/:id (the admin password is write-only and never returned); `batches` on GET /endpoints/:id only. */
export type Endpoint = z.output<typeof endpointSchema> & { batches?: { id: string; name: string; status: string }[] };

export type Provider = Endpoint['provider'];
export type Security = Endpoint['security'];
export type AuthMethod = Endpoint['authMethod'];

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
  | 'rateLimits'
> &
  Partial<Pick<Endpoint, 'tenantId' | 'clientId' | 'authorityHost'>> & {
    adminUser?: string | null;
    /** Write-only: sent to set or replace it, never returned. */
    adminPassword?: string | null;
    /** Write-only, the secret of a method that mints its tokens: the key JSON, client secret or refresh token. */
    serviceAccountKey?: string | null;
    clientSecret?: string | null;
    refreshToken?: string | null;
    /** Create and unsaved test only. */
    testMailbox?: TestMailbox | null;
    /** Left out on create: the provider's; null: none. */
    caldavUrl?: string | null;
    carddavUrl?: string | null;
  };

/** A mailbox to log in as during a connection test; used for the test only, never stored. */
export interface TestMailbox {
  userName: string;
  password?: string | null;
}

export type ConnectionTestResult = z.output<typeof testResultSchema>;

/** One problem of a refused CSV (`CSV_INVALID`: `details.problems`); line 1 is the header. */
export interface CsvLineError {
  line?: number;
  item?: number;
  column?: string;
  code?: string;
  message: string;
}
