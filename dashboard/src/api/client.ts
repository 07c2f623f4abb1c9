import { ApiError } from './api-error';
import type {
  AuditEntry,
  AuditQuery,
  BatchDetail,
  BatchEditInput,
  BatchInput,
  BatchSummary,
  ConnectionTestResult,
  Endpoint,
  EndpointInput,
  Health,
  MailboxAction,
  MailboxCommandReply,
  MailboxRow,
  Me,
  MigrationUser,
  Page,
  ProgressPoint,
  SkippedItem,
  Statistics,
  TestMailbox,
} from './types';

const BASE = '/api/v1';

/** Command verbs as the API spells them in `POST /batches/:id/<verb>`. */
export type CommandVerb = 'start' | 'stop' | 'resume' | 'complete' | 'sync-now' | 'verify';

type Query = Record<string, string | number | undefined | null>;

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function readError(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
  return new ApiError(
    response.status,
    error?.code ?? `HTTP_${response.status}`,
    error?.message ?? (response.statusText || `The server answered HTTP ${response.status}`),
    error?.details,
  );
}

/**
 * A thin client over the public API. Every call sends the session's bearer token; `onUnauthorized` runs when the
 * API says the token is missing, invalid or revoked, so the page can return to sign-in.
 */
export class ApiClient {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: () => void = () => {},
  ) {}

  private async raw(method: string, path: string, body?: unknown, query?: Query): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${BASE}${path}${queryString(query)}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (cause) {
      throw new ApiError(0, 'NETWORK', 'Cannot reach the mailferry API. Check that the server is running.', cause);
    }
    if (!response.ok) {
      const error = await readError(response);
      if (response.status === 401) this.onUnauthorized();
      throw error;
    }
    return response;
  }

  private async json<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const response = await this.raw(method, path, body, query);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  me(): Promise<Me> {
    return this.json('GET', '/me');
  }

  /**
   * What GET /health says of PostgreSQL, Temporal and the workers. Its 503 (Temporal or PostgreSQL down) still
   * carries the checks, so it is answered as checks too.
   */
  async health(): Promise<Health['checks']> {
    try {
      return (await this.json<Health>('GET', '/health')).checks;
    } catch (error) {
      const checks = (error as ApiError).details as { checks?: Health['checks'] } | undefined;
      if (error instanceof ApiError && error.code === 'UNHEALTHY' && checks?.checks) return checks.checks;
      throw error;
    }
  }

  audit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return this.json('GET', '/audit', undefined, query);
  }

  statistics(): Promise<Statistics> {
    return this.json('GET', '/statistics');
  }

  listBatches(query: { status?: string; sort?: string; order?: 'asc' | 'desc'; page?: number; pageSize?: number }) {
    return this.json<Page<BatchSummary>>('GET', '/batches', undefined, query);
  }

  getBatch(id: string): Promise<BatchDetail> {
    return this.json('GET', `/batches/${encodeURIComponent(id)}`);
  }

  createBatch(input: BatchInput): Promise<BatchDetail> {
    return this.json('POST', '/batches', input);
  }

  editBatch(id: string, input: BatchEditInput): Promise<BatchDetail> {
    return this.json('PATCH', `/batches/${encodeURIComponent(id)}`, input);
  }

  command(id: string, verb: CommandVerb): Promise<unknown> {
    return this.json('POST', `/batches/${encodeURIComponent(id)}/${verb}`);
  }

  deleteBatch(id: string): Promise<unknown> {
    return this.json('DELETE', `/batches/${encodeURIComponent(id)}`);
  }

  async progress(id: string): Promise<ProgressPoint[]> {
    const body = await this.json<{ items: ProgressPoint[] }>('GET', `/batches/${encodeURIComponent(id)}/progress`);
    return body.items;
  }

  mailboxes(id: string, query: { status?: string; search?: string; page: number; pageSize: number }) {
    return this.json<Page<MailboxRow>>('GET', `/batches/${encodeURIComponent(id)}/mailboxes`, undefined, query);
  }

  async skippedItems(id: string, mailboxId: string | number): Promise<SkippedItem[]> {
    const body = await this.json<Page<SkippedItem>>(
      'GET',
      `/batches/${encodeURIComponent(id)}/mailboxes/${encodeURIComponent(String(mailboxId))}/skipped-items`,
      undefined,
      { pageSize: 500 },
    );
    return body.items;
  }

  /** One migration user with its own settings (`overrides`), e.g. to fill the Set form. */
  migrationUser(mailboxId: string): Promise<MigrationUser> {
    return this.json('GET', `/mailboxes/${encodeURIComponent(mailboxId)}`);
  }

  /** A per-mailbox command; move, set and set-password send their body, the others none. */
  mailboxCommand(mailboxId: string, action: MailboxAction): Promise<MailboxCommandReply> {
    const body = 'body' in action ? action.body : undefined;
    return this.json('POST', `/mailboxes/${encodeURIComponent(mailboxId)}/${action.command}`, body);
  }

  /** The report as CSV; fetched with the token (a plain link could not send it) and handed over as a Blob. */
  async mailboxesCsv(id: string, filter: { status?: string; search?: string } = {}): Promise<Blob> {
    const response = await this.raw('GET', `/batches/${encodeURIComponent(id)}/mailboxes.csv`, undefined, filter);
    return response.blob();
  }

  async listEndpoints(): Promise<Endpoint[]> {
    const body = await this.json<{ items: Endpoint[] }>('GET', '/endpoints');
    return body.items;
  }

  getEndpoint(id: string): Promise<Endpoint> {
    return this.json('GET', `/endpoints/${encodeURIComponent(id)}`);
  }

  createEndpoint(input: EndpointInput, skipTest: boolean): Promise<Endpoint> {
    return this.json('POST', '/endpoints', input, skipTest ? { skipTest: 'true' } : undefined);
  }

  editEndpoint(id: string, input: Partial<EndpointInput>, skipTest: boolean): Promise<Endpoint> {
    return this.json(
      'PATCH',
      `/endpoints/${encodeURIComponent(id)}`,
      input,
      skipTest ? { skipTest: 'true' } : undefined,
    );
  }

  deleteEndpoint(id: string): Promise<unknown> {
    return this.json('DELETE', `/endpoints/${encodeURIComponent(id)}`);
  }

  /** Tests settings before they are saved. */
  testSettings(input: EndpointInput): Promise<ConnectionTestResult> {
    return this.json('POST', '/endpoints/test', input);
  }

  /** Tests a saved endpoint. */
  testEndpoint(id: string, testMailbox?: TestMailbox): Promise<ConnectionTestResult> {
    return this.json('POST', `/endpoints/${encodeURIComponent(id)}/test`, testMailbox ? { testMailbox } : undefined);
  }
}

/** Signs in: checks the token against `GET /me` without a client-wide unauthorized handler. */
export async function whoAmI(token: string): Promise<Me> {
  return new ApiClient(token).me();
}
