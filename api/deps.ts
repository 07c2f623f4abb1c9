import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { SecretBox } from '../secrets/secret-box';
import type { LifecyclePolicy } from '../domain/batch-workflow-input';
import type { ConnectionTestResult as ImapConnectionTestResult } from '../imap/connection-test';
import type { ComponentMonitor } from '../observability/component-status';
import type { Logger } from '../observability/logger';
import type { MetricsExporter } from '../observability/metrics-http';
import type { RateLimits } from './rate-limits';
import type { AccessTokens, TokenEndpoint } from '../credentials/access-tokens';
import type { AuthMethod } from '../domain/endpoint-auth';

/** The settings an IMAP connection test needs (a saved endpoint's, or unsaved ones from the request). */
export interface ConnectionTestSettings {
  host: string;
  port: number;
  security: 'none' | 'starttls' | 'tls';
  acceptUntrustedCerts: boolean;
  authMethod: AuthMethod;
  provider: 'generic' | 'dovecot' | 'gmail' | 'm365';
  /**
   * With a method that mints its tokens: the key or secret and the OAuth settings; the test logs the test mailbox
   * in with a token minted for it.
   */
  oauth?: TokenEndpoint | null;
  /** Admin (master) user; without it the test only connects and reads the greeting/capabilities. */
  adminUser?: string | null;
  adminPassword?: string | null;
  /** The endpoint's CalDAV and CardDAV services, tested with the test mailbox's password when there is one. */
  caldavUrl?: string | null;
  carddavUrl?: string | null;
  /**
   * A mailbox to log in as (through the admin user when there is one). Without it, admin credentials log in
   * as the admin user itself; with no credentials at all the test stops at the greeting.
   */
  testMailbox?: { userName: string; password?: string | null } | null;
}

/** What the API answers of a connection test: the engine's result without the server's capabilities. */
export type ConnectionTestResult = Omit<ImapConnectionTestResult, 'capabilities'>;

/** Implemented by `imap/connection-test.ts`; injected so tests can point it at a real Dovecot. */
export type ConnectionTester = (settings: ConnectionTestSettings) => Promise<ConnectionTestResult>;

export interface ApiDeps {
  pool: Pool;
  temporal: Client;
  secretBox: SecretBox;
  /** Task queue the batch workflows run on. */
  taskQueue: string;
  /** Base URL of the Temporal Web UI (e.g. `http://localhost:8233`), for links; none when undefined. */
  temporalUiUrl?: string;
  /** True where the MailferryBatchName/MailferryStatus search attributes are registered (dev server, compose). */
  searchAttributes?: boolean;
  /** Timers and limits given to every new batch; unset fields keep the seed's defaults. */
  batchPolicy?: Partial<LifecyclePolicy>;
  logger: Logger;
  /**
   * What this process knows of PostgreSQL, Temporal and the endpoints' IMAP servers (entry/services.ts watches
   * them): GET /health reports it as `components`, and its own checks feed it.
   */
  components?: ComponentMonitor;
  testConnection: ConnectionTester;
  /** Mints the tokens of an analysis on endpoints that mint theirs; the tester's own cache when unset. */
  tokens?: AccessTokens;
  /** Served at `GET /metrics` (Prometheus text format) when given. */
  metrics?: MetricsExporter;
  /** Folder of the built dashboard; default `<repo>/dashboard/dist`. Served at `/` when it has `index.html`. */
  dashboardDir?: string;
  /** How long the API waits for the workflow to apply a command (default 30 s) or answer a query (3 s). */
  commandTimeoutMs?: number;
  queryTimeoutMs?: number;
  /** How long starting a batch's workflow may take before creation fails and is undone (default 10 s). */
  startTimeoutMs?: number;
  /**
   * Express's `trust proxy` (MAILFERRY_TRUST_PROXY): the proxies whose X-Forwarded-For and X-Forwarded-Proto
   * are believed, as a hop count or a list of addresses/subnets; default none.
   */
  trustProxy?: number | string;
  /** Per-IP limits on failed authentication and connection tests; unset fields keep the defaults. */
  rateLimits?: Partial<RateLimits>;
}
