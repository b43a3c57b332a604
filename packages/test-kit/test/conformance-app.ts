/**
 * What every conformance app (apps/*.ts) provides: the running server, the bodies it serves, the exception it
 * throws, and its declared differences from the other frameworks.
 */
import { gzipSync } from 'node:zlib';
import { listening } from '@meterline/testing';

export const DURATION = 'http_server_request_duration_seconds';
export const REQ_SIZE = 'http_server_request_body_size_bytes';
export const RES_SIZE = 'http_server_response_body_size_bytes';
export const ACTIVE = 'http_server_active_requests';

/** Bodies every app serves, so sizes are known. */
export const FIXED_BODY = 'f'.repeat(1000);
export const CHUNKS = ['a'.repeat(300), 'b'.repeat(300), 'c'.repeat(400)];
export const COMPRESSED = gzipSync(Buffer.from('z'.repeat(5000)));

export class ConformanceError extends Error {}

export interface RunningApp {
  port: number;
  server: import('node:http').Server;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1 port 0 and describe the running server (Express and Koa apps). */
export function listenRunning(
  listen: (port: number, host: string, cb: () => void) => import('node:http').Server,
): Promise<RunningApp> {
  return listening(listen(0, '127.0.0.1', () => undefined));
}

/** What each framework app must provide (see apps/*.ts). */
export interface ConformanceApp {
  name: string;
  start(): Promise<RunningApp>;
  differences: Differences;
}

/** Declared, documented differences between frameworks. */
export interface Differences {
  /** status answered to OPTIONS on a route that only has GET */
  optionsStatus: number;
  /** route recorded for that OPTIONS request (undefined = none) */
  optionsRoute: string | undefined;
  /** status answered to an unknown method (PURGE) on an existing path */
  unknownMethodStatus: number;
  /**
   * error.type of an exception thrown in a handler and answered with a 500: the exception's class name (the
   * default), or the status code (`'status'`) where the framework answers the exception itself before the
   * adapter can see it (NestJS's exception filters)
   */
  thrownErrorType?: 'class' | 'status';
  /**
   * status answered to a method other than GET and HEAD on the metrics path: 405 with `Allow: GET, HEAD` (the
   * default), or the framework's own 404 where the adapter registers only GET and HEAD routes there (Fastify)
   */
  metricsPostStatus?: number;
}

/** The defaults of the optional differences. */
export const DEFAULT_DIFFERENCES = { thrownErrorType: 'class', metricsPostStatus: 405 } as const;

/** error.type recorded for a thrown exception of class `name` answered with `status` (see `thrownErrorType`). */
export function thrownErrorType(app: ConformanceApp, name: string, status: number): string {
  return app.differences.thrownErrorType === 'status' ? String(status) : name;
}
