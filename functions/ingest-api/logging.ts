import type { Logger } from '@aws-lambda-powertools/logger';

/** One line per request. Never the body, never a header. */
export interface AccessLine {
  readonly method: string;
  /** The route pattern that answered (e.g. /v1/transfers/:id), or "-" when none matched. */
  readonly route: string;
  readonly status: number;
  readonly latencyMs: number;
  /** API Gateway's request id, when there is one (for correlating with its own access log). */
  readonly requestId?: string;
  readonly transferId?: string;
  readonly transferCount?: number;
}

export interface AppLog {
  access(line: AccessLine): void;
  /** An error no mapping knew: answered 500. */
  unexpected(error: unknown, where: { readonly method: string; readonly path: string }): void;
}

/** No access lines; unexpected errors to stderr. The default of `createApp` (tests, tools). */
export const quietLog: AppLog = {
  access: () => {},
  unexpected: (error, where) => {
    console.error(`unexpected error on ${where.method} ${where.path}:`, error);
  },
};

/** Structured lines through Powertools Logger (service name from POWERTOOLS_SERVICE_NAME). */
export function powertoolsLog(logger: Logger): AppLog {
  return {
    access: (line) => logger.info('request', { ...line }),
    unexpected: (error, where) => {
      logger.error('unexpected error', { ...where, error: error instanceof Error ? error : String(error) });
    },
  };
}
