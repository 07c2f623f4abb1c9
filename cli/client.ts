/** A small client of the public API (the CLI's only way in). */

/** Node's TLS errors for a certificate no trusted CA signed (self-signed, or a private CA). */
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

export class CliError extends Error {
  constructor(
    message: string,
    /** Process exit code: 1 the API refused, 2 usage, 3 the API could not be reached. */
    readonly exitCode: number,
    readonly code?: string,
    readonly details?: unknown,
    /** A line of advice printed under the message. */
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  token?: string;
  fetch?: typeof fetch;
  /** Added to a 401's error: where the token came from, or where one could (see cli/config.ts authHint). */
  authHint?: string;
}

export class ApiClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '') + '/api/v1';
    this.fetchFn = options.fetch ?? fetch;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the CLI prints the API's JSON as it comes (shapes: openapi.json)
  async request<T = any>(
    method: string,
    path: string,
    body?: { json?: unknown; csv?: string },
    accept: 'json' | 'text' = 'json',
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let payload: string | undefined;
    if (body?.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body?.csv !== undefined) {
      headers['content-type'] = 'text/csv';
      payload = body.csv;
    }
    let res: Response;
    try {
      res = await this.fetchFn(this.base + path, { method, headers, body: payload });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new CliError(
        `cannot reach the mailferry API at ${this.options.baseUrl} (${cause})`,
        3,
        'API_UNREACHABLE',
        undefined,
        UNTRUSTED_CERT_CODES.has(cause)
          ? "the API's certificate is not trusted here: for a self-signed one, run with NODE_EXTRA_CA_CERTS=<its PEM file>"
          : undefined,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let parsed: { error?: { code?: string; message?: string; details?: unknown } } | undefined;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: a proxy or a wrong URL
      }
      const e = parsed?.error;
      throw new CliError(
        e?.message ? `${e.message} (${e.code ?? res.status})` : `the API answered HTTP ${res.status}`,
        1,
        e?.code ?? `HTTP_${res.status}`,
        e?.details,
        res.status === 401 ? this.options.authHint : undefined,
      );
    }
    if (accept === 'text') return text as T;
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
