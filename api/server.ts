import { createServer as createHttpServer, maxHeaderSize, STATUS_CODES, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createApp } from './app';
import type { Logger } from '../observability/logger';
import type { ApiDeps } from './deps';
import { ApiError, errorBody } from './errors';

/** A certificate chain and its private key, PEM (MAILFERRY_TLS_CERT / MAILFERRY_TLS_KEY). */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export interface RunningApi {
  /** `http://host:port` (or `https://` with TLS) the server listens on. */
  url: string;
  server: ReturnType<typeof createHttpServer> | ReturnType<typeof createHttpsServer>;
  /** Stops accepting connections, lets requests in flight finish (up to `graceMs`), then closes the rest. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Builds the app and listens (port 0 picks a free one), over HTTPS when given `tls`. The entry point owns the
 * deps and closes them after.
 */
export async function startApiServer(
  deps: ApiDeps,
  options: { port: number; host?: string; tls?: TlsFiles },
): Promise<RunningApi> {
  const app = createApp(deps);
  const host = options.host ?? '0.0.0.0';
  const server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, app)
    : createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('clientError', clientErrorHandler(deps.logger));
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `${options.tls ? 'https' : 'http'}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`,
    server,
    async close(graceMs = 5000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
    },
  };
}

/** The API's answer to a request Node could not parse, before Express sees it. */
function clientErrorFor(err: NodeJS.ErrnoException): ApiError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(
        'HEADERS_TOO_LARGE',
        'the request line and headers are larger than the server accepts; shorten the URL or the headers',
        { limitBytes: maxHeaderSize },
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError('REQUEST_TIMEOUT', 'the request was not received in time');
    default:
      return new ApiError('BAD_REQUEST', 'the request is not valid HTTP');
  }
}

/**
 * Replaces Node's bare `431`/`400` for requests the HTTP parser refuses (an oversized request line or headers,
 * a malformed request) with the API's error shape, then closes the connection: after a parse error the rest of
 * the stream cannot be trusted.
 */
export function clientErrorHandler(logger: Logger): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    // Nobody is left to answer to; a response already under way must not be corrupted by a second one.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const apiError = clientErrorFor(err);
    // The code only: the raw packet can hold a token.
    logger.warn('unparsable request refused', { code: err.code ?? null, status: apiError.status });
    const body = JSON.stringify(errorBody(apiError.code, apiError.message, apiError.details));
    socket.end(
      [
        `HTTP/1.1 ${apiError.status} ${STATUS_CODES[apiError.status] ?? 'Error'}`,
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Cache-Control: no-store',
        'X-Content-Type-Options: nosniff',
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
    // end() closes once the answer is flushed; a peer that never reads must not hold the socket open.
    setTimeout(() => socket.destroy(), 5000).unref();
  };
}
