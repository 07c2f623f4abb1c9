import { z } from 'zod';
import type { AnyRoute, Responses } from './route';
import { errorSchema } from './schemas';

type JsonSchema = Record<string, unknown>;

/**
 * The OpenAPI 3.1 document, generated from the route definitions: the same zod schemas validate requests.
 * Named schemas (`.meta({ id })`) become `components.schemas`.
 */
export function buildOpenApi(routes: readonly AnyRoute[], info: { version: string }): JsonSchema {
  const components: Record<string, JsonSchema> = {};

  const convert = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    delete json.$defs;
    delete json.$schema;
    const rewrite = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(rewrite);
      if (node && typeof node === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(node)) {
          out[k] = k === '$ref' && typeof v === 'string' ? v.replace('#/$defs/', '#/components/schemas/') : rewrite(v);
        }
        return out;
      }
      return node;
    };
    for (const [name, def] of Object.entries(defs)) components[name] = rewrite(def) as JsonSchema;
    const root = rewrite(json) as JsonSchema;
    const id = root.id;
    if (typeof id === 'string') {
      delete root.id;
      components[id] = root;
      return { $ref: `#/components/schemas/${id}` };
    }
    return root;
  };

  const parameters = (schema: z.ZodType | undefined, where: 'path' | 'query') => {
    if (!schema) return [];
    const json = convert(schema, 'input');
    const props = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required ?? []) as string[]);
    return Object.entries(props).map(([name, s]) => {
      const { description, ...rest } = s;
      return {
        name,
        in: where,
        required: where === 'path' || required.has(name),
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
      };
    });
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, doc] of Object.entries(route.responses as Responses)) {
      responses[status] = {
        description: doc.description,
        ...(doc.schema || doc.contentType
          ? {
              content: {
                [doc.contentType ?? 'application/json']: {
                  schema: doc.schema ? convert(doc.schema, 'output') : { type: 'string' },
                },
              },
            }
          : {}),
      };
    }
    if (route.access !== 'public') {
      responses['401'] ??= {
        description: 'UNAUTHENTICATED (no, malformed, unknown or revoked token) or TOKEN_EXPIRED',
        content: { 'application/json': { schema: convert(errorSchema, 'output') } },
      };
      responses['429'] ??= {
        description: route.runsConnectionTest
          ? 'TOO_MANY_AUTH_FAILURES or TOO_MANY_CONNECTION_TESTS from this address (see Retry-After)'
          : 'TOO_MANY_AUTH_FAILURES from this address (see Retry-After)',
        content: { 'application/json': { schema: convert(errorSchema, 'output') } },
      };
      if (route.access === 'admin') {
        responses['403'] ??= {
          description: 'FORBIDDEN (viewer token)',
          content: { 'application/json': { schema: convert(errorSchema, 'output') } },
        };
      }
    }
    if (route.params || route.query || route.body) {
      responses['400'] ??= {
        description: 'VALIDATION_FAILED',
        content: { 'application/json': { schema: convert(errorSchema, 'output') } },
      };
    }
    const content: Record<string, unknown> = {};
    if (route.body) content['application/json'] = { schema: convert(route.body, 'input') };
    if (route.csvQuery) content['text/csv'] = { schema: { type: 'string' } };
    const queryParams = parameters(route.query, 'query');
    const csvParams = route.csvQuery
      ? parameters(route.csvQuery, 'query').map((p) => ({
          ...p,
          required: false,
          description: `${p.description ? `${p.description}. ` : ''}With a text/csv body only${p.required ? ' (required then)' : ''}`,
        }))
      : [];
    const operation = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      ...(route.access === 'public' ? { security: [] } : {}),
      'x-required-role': route.access === 'public' ? 'none' : route.access,
      parameters: [...parameters(route.params, 'path'), ...queryParams, ...csvParams],
      ...(route.body ? { requestBody: { required: true, content } } : {}),
      responses,
    };
    (paths[route.path] ??= {})[route.method] = operation;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'mailferry API',
      version: info.version,
      description: 'Migration endpoints, batches, commands and reports. See docs/api.md for auth, errors and CSV.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API token (mf_...)' } },
      schemas: components,
    },
  };
}
