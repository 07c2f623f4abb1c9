import type { Request, RequestHandler } from 'express';
import { rateLimit, type AugmentedRequest } from 'express-rate-limit';
import { ApiError, type ErrorCode } from './errors';

/** How many of a kind of request one client IP may make in a window. */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

export interface RateLimits {
  /** Requests refused for a missing, unknown, revoked or expired token (brute force on tokens). */
  authFailures: RateLimit;
  /** IMAP connection tests (they make the server connect anywhere it is told). */
  connectionTests: RateLimit;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  authFailures: { limit: 30, windowMs: 5 * 60_000 },
  connectionTests: { limit: 20, windowMs: 60_000 },
};

/**
 * A per-IP limiter (express-rate-limit, in memory: per API process) that answers with the API's error shape, a
 * `Retry-After` header and `details.retryAfterSeconds`. The IP is `req.ip`, which honours MAILFERRY_TRUST_PROXY.
 */
function limiter(
  { limit, windowMs }: RateLimit,
  code: ErrorCode,
  message: string,
  options: { countOnlyAuthFailures?: boolean; skip?: (req: Request) => boolean } = {},
): RequestHandler {
  return rateLimit({
    limit,
    windowMs,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Counts every request while it runs, then forgets those that authenticated: a burst of bad tokens trips
    // the limit, a busy dashboard does not.
    ...(options.countOnlyAuthFailures
      ? { skipSuccessfulRequests: true, requestWasSuccessful: (_req, res) => res.statusCode !== 401 }
      : {}),
    ...(options.skip ? { skip: options.skip } : {}),
    handler(req, res, next) {
      const resetAt = (req as AugmentedRequest).rateLimit?.resetTime?.getTime() ?? Date.now() + windowMs;
      const retryAfterSeconds = Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
      next(new ApiError(code, message, { retryAfterSeconds, limit, windowSeconds: windowMs / 1000 }));
    },
  });
}

/** The limiters of one app (each app has its own counters). */
export function createRateLimiters(limits: Partial<RateLimits> = {}) {
  const { authFailures, connectionTests } = { ...DEFAULT_RATE_LIMITS, ...limits };
  return {
    authFailures: limiter(
      authFailures,
      'TOO_MANY_AUTH_FAILURES',
      'too many requests with a missing or refused token from this address; wait and try again',
      { countOnlyAuthFailures: true },
    ),
    connectionTests: limiter(
      connectionTests,
      'TOO_MANY_CONNECTION_TESTS',
      'too many connection tests from this address; wait and try again',
      // Creating or editing an endpoint with skipTest=true runs no test.
      { skip: (req) => req.query.skipTest === 'true' || req.query.skipTest === '1' },
    ),
  };
}

export type RateLimiters = ReturnType<typeof createRateLimiters>;
