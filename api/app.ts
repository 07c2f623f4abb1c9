import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';
import { serveMetrics } from '../observability/metrics-http';
import type { ApiDeps } from './deps';
import { errorHandler, notFoundHandler } from './errors';
import { buildOpenApi } from './openapi';
import { createRateLimiters } from './rate-limits';
import { defineRoute, methodNotAllowed, registerRoutes, type AnyRoute } from './route';
import { analyzeRoutes } from './routes/analyze';
import { auditRoutes } from './routes/audit';
import { batchRoutes } from './routes/batches';
import { endpointRoutes } from './routes/endpoints';
import { mailboxRoutes } from './routes/mailboxes';
import { userRoutes } from './routes/users';
import { systemRoutes } from './routes/system';
import { tokenRoutes } from './routes/tokens';
import { securityHeaders } from './security-headers';

export type { ApiDeps, ConnectionTester, ConnectionTestResult, ConnectionTestSettings } from './deps';

export const API_PREFIX = '/api/v1';
const API_VERSION = '1.0.0';

/** Every operation of the API, in the order the OpenAPI document lists them. */
export function apiRoutes(): AnyRoute[] {
  const routes: AnyRoute[] = [
    ...systemRoutes,
    ...tokenRoutes,
    ...endpointRoutes,
    ...analyzeRoutes,
    ...batchRoutes,
    ...mailboxRoutes,
    ...userRoutes,
    ...auditRoutes,
  ];
  const openApiRoute = defineRoute({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    tag: 'system',
    access: 'public',
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
    async handler() {
      return { status: 200 as const, body: document };
    },
  });
  const all = [...routes, openApiRoute];
  const document = buildOpenApi(all, { version: API_VERSION });
  return all;
}

/**
 * The API process's Express app: `/api/v1` (JSON, bearer tokens) and, when built, the dashboard at `/`.
 * Everything it needs is injected; it reads no environment.
 */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Which proxies may tell the client's address (rate limits) and scheme (HSTS): none unless configured.
  app.set('trust proxy', deps.trustProxy ?? false);

  app.use(securityHeaders());
  app.use((req, res, next) => {
    const started = Date.now();
    res.on('finish', () => {
      if (req.path.startsWith(API_PREFIX)) {
        // The path only: query strings may carry search terms; bodies and headers are never logged.
        deps.logger.info('request', {
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Date.now() - started,
        });
      }
    });
    next();
  });

  const api = express.Router({ strict: false, caseSensitive: true });
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  const routes = apiRoutes();
  registerRoutes(api, routes, deps, createRateLimiters(deps.rateLimits));
  api.use(methodNotAllowed(routes));
  api.use(notFoundHandler);
  api.use(errorHandler(deps.logger));
  app.use(API_PREFIX, api);

  // Prometheus' usual path, beside /api/v1 rather than in it: the reply is the text format, not a JSON body a
  // route schema describes, and a scraper holds no API token (MAILFERRY_METRICS_TOKEN guards it when set).
  const metrics = deps.metrics;
  if (metrics) app.get('/metrics', (req, res) => serveMetrics(metrics, req, res));

  const dashboardDir = deps.dashboardDir ?? path.resolve(__dirname, '..', 'dashboard', 'dist');
  const indexHtml = path.join(dashboardDir, 'index.html');
  if (existsSync(indexHtml)) {
    app.use(express.static(dashboardDir, { index: 'index.html', dotfiles: 'ignore', fallthrough: true }));
    app.use((req, res, next) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path.startsWith('/api/')) return next();
      res.sendFile(indexHtml);
    });
  }
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
