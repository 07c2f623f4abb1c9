import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { type z } from 'zod';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';
import type { RateLimiters } from './rate-limits';
import { findActiveToken, type Actor } from './tokens-store';

/**
 * One definition per operation: the zod schemas that validate its parameters, query and body are the ones the
 * OpenAPI document is generated from (api/openapi.ts), and the Express routes are registered from the same list,
 * so the document and the routes cannot drift apart.
 */
export type Access = 'public' | 'viewer' | 'admin';
export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
}

export interface Reply {
  status: number;
  body?: unknown;
}

/** Responses of one operation, by status code. */
export type Responses = Record<number, ResponseDoc>;

/**
 * What a handler may return: for each documented status, a body of that status's schema (its input type: dates
 * as strings, as the JSON carries them); a status documented without a schema (the OpenAPI document itself, a
 * 204) takes any body or none. The compiler refuses a status or a body the OpenAPI document does not describe.
 */
export type ReplyOf<R extends Responses> = {
  [K in keyof R & number]: R[K] extends { schema: infer S extends z.ZodType }
    ? { status: K; body: z.input<S> }
    : { status: K; body?: unknown };
}[keyof R & number];

export interface Ctx<P, Q, B> {
  req: Request;
  res: Response;
  deps: ApiDeps;
  params: P;
  query: Q;
  body: B;
  /** Undefined only on public routes. */
  actor: Actor;
}

export interface RouteDef<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  R extends Responses = Responses,
> {
  method: HttpMethod;
  /** OpenAPI style: `/batches/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  /**
   * The body may also be sent as `text/csv`: then the settings come from the query string (this schema) and the
   * CSV text is merged in as `csv` before `body` validates the whole.
   */
  csvQuery?: z.ZodType;
  /** Route accepts a large body (CSV uploads). */
  largeBody?: boolean;
  /** The route runs an IMAP connection test: limited per client IP (api/rate-limits.ts). */
  runsConnectionTest?: boolean;
  responses: R;
  /** Returns the reply, or undefined when it wrote the response itself (streams). */
  handler(ctx: Ctx<z.output<P>, z.output<Q>, z.output<B>>): Promise<ReplyOf<R> | undefined>;
}

// The route list is heterogeneous; each definition is checked where it is written (defineRoute).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteDef<any, any, any, any>;

export function defineRoute<
  P extends z.ZodType = z.ZodObject,
  Q extends z.ZodType = z.ZodObject,
  B extends z.ZodType = z.ZodUndefined,
  const R extends Responses = Responses,
>(def: RouteDef<P, Q, B, R>): AnyRoute {
  return def as AnyRoute;
}

/** Path `/batches/{id}/start` → Express `/batches/:id/start`. */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

export function zodDetails(error: z.ZodError, where: string): Record<string, unknown> {
  return {
    in: where,
    issues: error.issues.slice(0, 50).map((issue) => ({
      path: issue.path.map(String).join('.'),
      code: issue.code,
      message: issue.message,
    })),
  };
}

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const first = result.error.issues[0];
    const at = first && first.path.length > 0 ? ` (${where} ${first.path.map(String).join('.')})` : ` (${where})`;
    throw new ApiError(
      'VALIDATION_FAILED',
      `invalid ${where}: ${first?.message ?? 'invalid value'}${at}`,
      zodDetails(result.error, where),
    );
  }
  return result.data;
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export async function authenticate(req: Request, deps: ApiDeps): Promise<Actor> {
  const header = req.headers.authorization;
  if (!header) throw new ApiError('UNAUTHENTICATED', 'missing Authorization: Bearer <token> header');
  const match = /^Bearer ([A-Za-z0-9_\-.~+/=]{1,512})$/.exec(header);
  if (!match) throw new ApiError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"');
  const actor = await findActiveToken(deps.pool, match[1]!);
  if (!actor) throw new ApiError('UNAUTHENTICATED', 'the API token is unknown or revoked');
  return actor;
}

const JSON_LIMIT = '1mb';
/** Room for a 10 MB CSV inside a JSON string (escaping adds a little). */
const LARGE_JSON_LIMIT = '16mb';
const CSV_LIMIT = 10 * 1024 * 1024;

function authFor(route: AnyRoute, deps: ApiDeps): RequestHandler {
  return async (req, res, next) => {
    try {
      if (route.access !== 'public') {
        const actor = await authenticate(req, deps);
        if (route.access === 'admin' && actor.role !== 'admin') {
          throw new ApiError('FORBIDDEN', 'this operation needs an admin token; the token used is read-only (viewer)', {
            role: actor.role,
          });
        }
        res.locals.actor = actor;
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}

function parsersFor(route: AnyRoute): RequestHandler[] {
  if (!route.body) return [];
  const parsers = [express.json({ limit: route.largeBody ? LARGE_JSON_LIMIT : JSON_LIMIT, type: 'application/json' })];
  if (route.csvQuery) parsers.push(express.text({ limit: CSV_LIMIT, type: 'text/csv' }));
  return parsers;
}

function handlerFor(route: AnyRoute, deps: ApiDeps): RequestHandler {
  return async (req, res, next) => {
    try {
      const actor = res.locals.actor as Actor;
      const params = route.params ? parseOrThrow(route.params, req.params, 'path parameter') : {};
      let query: unknown = {};
      let body: unknown = undefined;
      const isCsv = req.is('text/csv') === 'text/csv';
      if (route.body) {
        if (hasBody(req) && !req.is('application/json') && !(isCsv && route.csvQuery)) {
          throw new ApiError(
            'UNSUPPORTED_MEDIA_TYPE',
            route.csvQuery ? 'send the body as application/json or text/csv' : 'send the body as application/json',
            { contentType: req.headers['content-type']?.slice(0, 100) ?? null },
          );
        }
        if (isCsv && route.csvQuery) {
          const settings = parseOrThrow(route.csvQuery, req.query, 'query parameter') as Record<string, unknown>;
          body = parseOrThrow(route.body, { ...settings, csv: typeof req.body === 'string' ? req.body : '' }, 'body');
        } else {
          if (route.query) query = parseOrThrow(route.query, req.query, 'query parameter');
          body = parseOrThrow(route.body, req.body ?? {}, 'body');
        }
      } else if (route.query) {
        query = parseOrThrow(route.query, req.query, 'query parameter');
      }
      const reply: Reply | undefined = await route.handler({ req, res, deps, params, query, body, actor });
      if (!reply) return;
      if (reply.body === undefined) res.status(reply.status).end();
      else res.status(reply.status).json(reply.body);
    } catch (err) {
      next(err);
    }
  };
}

export function registerRoutes(
  router: Router,
  routes: readonly AnyRoute[],
  deps: ApiDeps,
  limiters: RateLimiters,
): void {
  for (const route of routes) {
    const limits = [
      ...(route.access === 'public' ? [] : [limiters.authFailures]),
      ...(route.runsConnectionTest ? [limiters.connectionTests] : []),
    ];
    router[route.method](
      expressPath(route.path),
      ...limits,
      authFor(route, deps),
      ...parsersFor(route),
      handlerFor(route, deps),
    );
  }
}

/**
 * Answers a request whose path is an operation's but whose method is not: 405 METHOD_NOT_ALLOWED with an `Allow`
 * header and `details.allowed`, derived from the route table. Paths no operation has fall through (404).
 */
export function methodNotAllowed(routes: readonly AnyRoute[]): RequestHandler {
  const byPath = new Map<string, { pattern: RegExp; methods: string[] }>();
  for (const route of routes) {
    let entry = byPath.get(route.path);
    if (!entry) {
      // Like Express with `strict: false`: a `{param}` is one non-empty segment; a trailing slash is allowed.
      const source = route.path
        .split(/\{\w+\}/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]+');
      entry = { pattern: new RegExp(`^${source}/?$`), methods: [] };
      byPath.set(route.path, entry);
    }
    const method = route.method.toUpperCase();
    if (!entry.methods.includes(method)) entry.methods.push(method);
  }
  return (req, res, next) => {
    const allowed = new Set<string>();
    for (const { pattern, methods } of byPath.values()) {
      if (pattern.test(req.path)) methods.forEach((m) => allowed.add(m));
    }
    // Express answers HEAD with the GET route.
    if (allowed.has('GET')) allowed.add('HEAD');
    if (allowed.size === 0 || allowed.has(req.method)) return next();
    const list = ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'].filter((m) => allowed.has(m));
    res.setHeader('Allow', list.join(', '));
    next(
      new ApiError(
        'METHOD_NOT_ALLOWED',
        `${req.method} is not allowed on ${req.path.slice(0, 200)}; use ${list.join(', ')}`,
        {
          allowed: list,
        },
      ),
    );
  };
}
