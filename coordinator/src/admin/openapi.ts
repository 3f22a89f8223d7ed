import { z } from 'zod';
import { errorBodySchema } from './http-errors.js';
import { defineRoute, type Route } from './route.js';

type JsonSchema = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request (the message names the field)',
  401: 'No valid admin token',
  403: 'A browser request from another origin or host, or a session mutation without its CSRF token',
  404: 'Unknown identity, client or request',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  500: 'Internal error (details only in the log)',
};

/**
 * The OpenAPI 3.1 document of `routes`, generated from the same zod schemas that validate them
 * (OpenAPI 3.1 schemas are JSON Schema 2020-12, what z.toJSONSchema writes).
 */
export function buildOpenApiDocument(routes: readonly Route[], info: { title: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const operation: Record<string, unknown> = {
      summary: route.summary,
      tags: [route.tag],
      ...(route.access === 'operator' ? { security: [{ bearer: [] }] } : { security: [] }),
    };
    const parameters = [
      ...parametersOf(route.schemas.params, 'path'),
      ...parametersOf(route.schemas.query, 'query'),
    ];
    if (parameters.length > 0) operation.parameters = parameters;
    if (route.schemas.body) {
      operation.requestBody = { required: false, content: { 'application/json': { schema: schemaOf(route.schemas.body, 'input') } } };
    }
    const errors = new Set([...(route.schemas.params || route.schemas.query || route.schemas.body ? [400] : []), ...(route.access === 'operator' ? [401] : []), ...route.errors, 500]);
    operation.responses = {
      200: {
        description: 'OK',
        content: { [route.contentType === 'asset' ? '*/*' : route.contentType]: { schema: route.contentType !== 'application/json' ? { type: 'string' } : schemaOf(route.schemas.response, 'output') } },
      },
      ...Object.fromEntries([...errors].sort((a, b) => a - b).map((status) => [status, { $ref: `#/components/responses/E${status}` }])),
    };
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  const errorSchema = schemaOf(errorBodySchema, 'output');
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'pnpm frostbunker admin-token create --label <name> --data <dir>' } },
      responses: Object.fromEntries(
        Object.entries(STATUS_TEXT).map(([status, description]) => [`E${status}`, { description, content: { 'application/json': { schema: errorSchema } } }]),
      ),
    },
  };
}

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** One OpenAPI parameter per property of a params or query object schema. */
function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (schema === undefined) return [];
  const object = schemaOf(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    schema: property,
  }));
}

/** `GET /openapi.json`: the document, which lists this route too. */
export function openApiRoute(document: () => JsonSchema): Route {
  return defineRoute({
    method: 'GET',
    url: '/openapi.json',
    summary: 'This document',
    tag: 'meta',
    access: 'public',
    response: z.looseObject({ openapi: z.literal('3.1.0') }),
    handler: () => document() as { openapi: '3.1.0' },
  });
}
