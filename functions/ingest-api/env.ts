import type { Hono } from 'hono';
import type { LiteralViolation } from './json-guard.js';

/** A JSON body read and parsed once at the edge (see `jsonBody` in middleware.ts). */
export interface ParsedBody {
  readonly value: unknown;
  /** Literals the guard refused; only kept when the route asked to judge them itself (the batch). */
  readonly violations: readonly LiteralViolation[];
}

/** Per-request values the routes set for the middleware (access log) and for each other. */
export interface AppEnv {
  /** Under hono/aws-lambda: the API Gateway event's request context (absent in-process and under node-server). */
  Bindings: {
    requestContext?: { readonly requestId?: string };
  };
  Variables: {
    /** For the access log: the transfer a request is about. */
    transferId?: string;
    /** For the access log: items in a batch. */
    transferCount?: number;
    parsedBody?: ParsedBody;
  };
}

export type IngestApp = Hono<AppEnv>;
