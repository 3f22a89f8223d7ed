import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Operator } from './auth.js';
import { AdminError, describeIssues } from './http-errors.js';

type Part = z.ZodType | undefined;
type Parsed<S extends Part> = S extends z.ZodType ? z.output<S> : undefined;

type Access = 'operator' | 'public';
type ContentType = 'application/json' | 'text/html' | 'text/plain' | 'asset';

export interface RouteInput<A extends Access, P extends Part, Q extends Part, B extends Part> {
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
  /** Who is calling: always known on an `operator` route (the request is refused otherwise). */
  operator: A extends 'operator' ? Operator : undefined;
  reply: FastifyReply;
}

/**
 * One route, declared once: its zod schemas validate the request (and the response, so a handler
 * can never send a field the schema does not name) and generate its part of the OpenAPI document.
 */
export interface RouteSpec<A extends Access, P extends Part, Q extends Part, B extends Part, R extends z.ZodType> {
  method: 'GET' | 'POST';
  /** Fastify syntax: `/api/v1/approvals/:approvalId`. */
  url: string;
  summary: string;
  tag: string;
  /** `operator`: an admin token is required; `public`: anyone who can reach the port. */
  access: A;
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  /** `text/html` routes return the page as a string; `asset` routes set their own type (dashboard files). */
  contentType?: ContentType;
  /** Statuses besides 200, 400, 401 and 500 this route answers with, for the document. */
  errors?: readonly number[];
  handler(input: RouteInput<A, P, Q, B>): z.input<R> | Promise<z.input<R>>;
}

/** A route with its types erased, ready to register and to document. */
export interface Route {
  method: 'GET' | 'POST';
  url: string;
  summary: string;
  tag: string;
  access: Access;
  schemas: { params?: z.ZodType; query?: z.ZodType; body?: z.ZodType; response: z.ZodType };
  contentType: ContentType;
  errors: readonly number[];
  run(request: FastifyRequest, reply: FastifyReply, operator: Operator | undefined): Promise<unknown>;
}

export function defineRoute<A extends Access, P extends Part = undefined, Q extends Part = undefined, B extends Part = undefined, R extends z.ZodType = z.ZodType>(
  spec: RouteSpec<A, P, Q, B, R>,
): Route {
  return {
    method: spec.method,
    url: spec.url,
    summary: spec.summary,
    tag: spec.tag,
    access: spec.access,
    schemas: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      response: spec.response,
    },
    contentType: spec.contentType ?? 'application/json',
    errors: spec.errors ?? [],
    async run(request, reply, operator) {
      // Defence in depth: an operator route registered outside the protected context still refuses.
      if (spec.access === 'operator' && operator === undefined) throw new AdminError(401, 'UNAUTHORIZED', 'an admin token is required');
      const input = {
        params: parsePart('params', spec.params, request.params),
        query: parsePart('query', spec.query, request.query),
        // A POST without a body (curl -X POST) is an empty object: every field is optional or named.
        body: parsePart('body', spec.body, request.body ?? {}),
        operator,
        reply,
      } as RouteInput<A, P, Q, B>;
      return spec.response.parse(await spec.handler(input));
    },
  };
}

/** Registers `routes` on `app` (a plugin context); `operatorOf` reads what the auth hook found. */
export function registerRoutes(app: FastifyInstance, routes: readonly Route[], operatorOf: (request: FastifyRequest) => Operator | undefined): void {
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (request, reply) => {
        const result = await route.run(request, reply, operatorOf(request));
        if (route.contentType === 'text/html') void reply.type('text/html; charset=utf-8');
        // Prometheus text exposition format 0.0.4.
        if (route.contentType === 'text/plain') void reply.type('text/plain; version=0.0.4; charset=utf-8');
        return result;
      },
    });
  }
}

function parsePart(where: 'params' | 'query' | 'body', schema: z.ZodType | undefined, value: unknown): unknown {
  if (schema === undefined) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AdminError(400, 'INVALID_REQUEST', describeIssues(where, parsed.error));
  return parsed.data;
}
