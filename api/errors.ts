import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../observability/logger';

/**
 * Every error the API answers with: an HTTP status, a stable machine-readable `code` and a message that names
 * the problem. The body is always `{ "error": { "code", "message", "details" } }`; never a stack trace.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  TOKEN_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  BATCH_NOT_FOUND: 404,
  ENDPOINT_NOT_FOUND: 404,
  MAILBOX_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  COMMAND_NOT_ALLOWED: 409,
  MAILBOX_COMMAND_NOT_ALLOWED: 409,
  MAILBOX_ALREADY_IN_BATCH: 409,
  BATCH_ENDPOINTS_DIFFER: 409,
  BATCH_NAME_TAKEN: 409,
  ENDPOINT_NAME_TAKEN: 409,
  ENDPOINT_IN_USE: 409,
  LAST_ADMIN_TOKEN: 409,
  WORKFLOW_NOT_RUNNING: 409,
  // Complete while a mailbox graded Investigate or Poor awaits approval; details.mailboxes names them.
  CONSISTENCY_NOT_APPROVED: 409,
  NOT_VERIFIED: 409,
  PAYLOAD_TOO_LARGE: 413,
  CSV_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  HEADERS_TOO_LARGE: 431,
  TOO_MANY_AUTH_FAILURES: 429,
  TOO_MANY_CONNECTION_TESTS: 429,
  CSV_INVALID: 422,
  MAILBOXES_INVALID: 422,
  BATCH_NOT_EDITABLE: 409,
  UNKNOWN_ENDPOINT: 422,
  ENDPOINT_TEST_FAILED: 422,
  ENDPOINT_CREDENTIALS_INCOMPLETE: 422,
  // An analysis's IMAP logins (POST /analyze): the code of imap/errors.ts, `details.side` names the side.
  AUTH_FAILED: 422,
  CREDENTIALS_MISSING: 422,
  CONNECTION_FAILED: 502,
  TLS_FAILED: 502,
  IMAP_ERROR: 502,
  TEMPORAL_UNAVAILABLE: 503,
  WORKFLOW_START_FAILED: 503,
  UNHEALTHY: 503,
  COMMAND_TIMEOUT: 504,
  ANALYSIS_TIMEOUT: 504,
  INTERNAL: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, details } };
}

/** Errors thrown by body-parser carry a `type`; map them to the API's codes. */
function fromBodyParser(
  err: { type?: unknown; status?: unknown; limit?: unknown },
  isCsv: boolean,
): ApiError | undefined {
  switch (err.type) {
    case 'entity.too.large':
      if (isCsv) return new ApiError('CSV_TOO_LARGE', 'the CSV is larger than 10 MB', { limitBytes: err.limit });
      return new ApiError('PAYLOAD_TOO_LARGE', 'the request body is larger than this route accepts', {
        limitBytes: typeof err.limit === 'number' ? err.limit : undefined,
      });
    case 'entity.parse.failed':
      return new ApiError('INVALID_JSON', 'the request body is not valid JSON');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'the request body uses an unsupported charset or encoding');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new ApiError('VALIDATION_FAILED', 'the request body could not be read');
    default:
      return undefined;
  }
}

/** PostgreSQL errors that bad input can still cause (races on unique names, malformed values). */
function fromPostgres(err: { code?: unknown; constraint?: unknown }): ApiError | undefined {
  if (typeof err.code !== 'string' || !/^[0-9A-Z]{5}$/.test(err.code)) return undefined;
  if (err.code === '23505') {
    if (err.constraint === 'batches_name_key' || err.constraint === 'batches_workflow_id_key')
      return new ApiError('BATCH_NAME_TAKEN', 'a batch with this name exists');
    if (err.constraint === 'endpoints_name_key') {
      return new ApiError('ENDPOINT_NAME_TAKEN', 'an endpoint with this name exists');
    }
    return new ApiError('VALIDATION_FAILED', 'the request conflicts with an existing record');
  }
  if (['22P02', '22007', '22008', '22003', '22021', '22P05', '54000'].includes(err.code)) {
    return new ApiError('VALIDATION_FAILED', 'a value in the request is malformed or out of range');
  }
  return undefined;
}

export function toApiError(err: unknown, isCsv = false): ApiError {
  if (err instanceof ApiError) return err;
  if (err && typeof err === 'object') {
    const mapped =
      fromBodyParser(err as { type?: unknown }, isCsv) ?? fromPostgres(err as { code?: unknown; constraint?: unknown });
    if (mapped) return mapped;
  }
  return new ApiError('INTERNAL', 'internal error; the server log has the details');
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const apiError = toApiError(err, req.is('text/csv') === 'text/csv');
    if (apiError.code === 'INTERNAL') {
      logger.error('request failed', {
        method: req.method,
        path: req.path,
        error: err instanceof Error ? err.message : String(err),
        stack: err instanceof Error ? err.stack : undefined,
      });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(apiError.status).json(errorBody(apiError.code, apiError.message, apiError.details));
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.path}`));
};
