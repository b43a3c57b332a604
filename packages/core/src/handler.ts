import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DEFAULTS, HANDLER_OPTION_KEYS, SERVER_OPTION_KEYS } from './options.js';
import { reportOnce } from './report.js';
import { getMeterline, type Meterline } from './runtime.js';
import { negotiate, TEXT_FORMAT, type StepWriter } from './negotiation.js';
import { selfMetricsOf, type ScrapeResult } from './self-metrics.js';
import { OutputBuffers } from './serializer.js';
import * as validate from './validate.js';
import type {
  MetricsAuth,
  MetricsHandlerOptions,
  MetricsRequestHandler,
  MetricsServer,
  MetricsServerOptions,
} from './types.js';

const gzipAsync = promisify(gzip);

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison of two strings (hashes first, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function validateHandlerOptions(where: string, options: MetricsHandlerOptions): void {
  validate.checkInteger(where, 'timeoutMs', options.timeoutMs, 1, 600_000);
  validate.checkInteger(where, 'maxConcurrentScrapes', options.maxConcurrentScrapes, 1, 1000);
  validate.checkBoolean(where, 'gzip', options.gzip);
  validate.checkObject(where, 'auth', options.auth);
  const auth = options.auth;
  if (auth !== undefined) {
    validate.checkKnown(`${where} auth`, auth, ['bearerToken', 'basic', 'check']);
    validate.checkString(where, 'auth.bearerToken', auth.bearerToken);
    validate.checkFunction(where, 'auth.check', auth.check);
    if (auth.basic !== undefined) {
      if (
        auth.basic === null ||
        typeof auth.basic !== 'object' ||
        typeof auth.basic.username !== 'string' ||
        typeof auth.basic.password !== 'string' ||
        auth.basic.username === '' ||
        auth.basic.password === ''
      ) {
        validate.fail(
          where,
          'auth.basic',
          auth.basic,
          'expected { username, password } with non-empty strings',
        );
      }
    }
    if (auth.bearerToken === undefined && auth.basic === undefined && auth.check === undefined) {
      validate.fail(where, 'auth', auth, 'give bearerToken, basic or check (or leave auth out)');
    }
  }
}

export async function authorised(auth: MetricsAuth, req: IncomingMessage): Promise<boolean> {
  const header = req.headers.authorization;
  if (auth.bearerToken !== undefined) {
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
    if (!safeEqual(header.slice(7), auth.bearerToken)) return false;
  }
  if (auth.basic !== undefined) {
    if (typeof header !== 'string' || !header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const expected = auth.basic.username + ':' + auth.basic.password;
    if (!safeEqual(decoded, expected)) return false;
  }
  if (auth.check !== undefined) {
    return (await auth.check(req)) === true;
  }
  return true;
}

/**
 * Writing the exposition yields to the event loop after this much time (ms): 10,000 lines take ~4 ms on a fast core
 * and several times that on a slow or busy one, all of it in one turn of the loop otherwise. Requests of the app
 * are served between the steps.
 */
const WRITE_STEP_MS = 2;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Serialise `collected` in steps of `WRITE_STEP_MS`, one per event-loop turn. Resolves to undefined (and gives the
 * buffer back) if the response is destroyed meanwhile.
 */
export async function writeInSteps(
  writer: StepWriter,
  res: ServerResponse,
  buffers: OutputBuffers,
  stepMs = WRITE_STEP_MS,
): Promise<{ bytes: Buffer; backing: Buffer } | undefined> {
  while (!writer.write(performance.now() + stepMs)) {
    await nextTurn();
    if (res.destroyed) {
      buffers.give(writer.result().backing);
      return undefined;
    }
  }
  return writer.result();
}

/** Bodies above this size are handed to the socket in slices of it, one per event-loop turn. */
const SLICE_BYTES = 256 * 1024;

/**
 * Send a large body in slices, yielding to the event loop between them: handing a 2 MB exposition to a socket in one
 * call kept the loop busy for 5-6 ms on a slow machine (the kernel copies it, and on loopback also receives it), on
 * top of collection. Waits for 'drain' when the socket's buffer is full; stops if the response is destroyed.
 */
export function sendInSlices(
  res: ServerResponse,
  body: Buffer,
  backing: Buffer,
  buffers: OutputBuffers,
): void {
  let offset = 0;
  const next = (): void => {
    if (res.destroyed) return;
    const end = Math.min(body.length, offset + SLICE_BYTES);
    const slice = body.subarray(offset, end);
    offset = end;
    if (offset >= body.length) {
      res.end(slice, () => buffers.give(backing));
    } else if (res.write(slice)) {
      setImmediate(next);
    } else {
      res.once('drain', next);
    }
  };
  next();
}

/** Collection did not finish within the handler's timeoutMs (counted as `result="timeout"`). */
class CollectionTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CollectionTimeout(`metrics collection took longer than ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function plain(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text + '\n');
}

/**
 * The shared Prometheus handler: a plain Node `(req, res)` handler for any framework or server. Serves the text
 * exposition format 0.0.4 (gzip when accepted) for GET and HEAD, 405 otherwise, 401 without valid credentials,
 * 503 past the concurrent scrape limit, and 500 with a short message if collection fails or times out.
 */
export function createMetricsHandler(
  options: MetricsHandlerOptions = {},
  runtime?: Meterline,
): MetricsRequestHandler {
  const where = 'meterline.createMetricsHandler';
  validate.checkObject(where, 'options', options);
  validate.checkKnown(where, options, HANDLER_OPTION_KEYS);
  validateHandlerOptions(where, options);
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxConcurrent = options.maxConcurrentScrapes ?? DEFAULTS.maxConcurrentScrapes;
  const useGzip = options.gzip ?? DEFAULTS.gzip;
  const auth = options.auth;
  let inFlight = 0;
  const buffers = new OutputBuffers();

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    rt: Meterline,
    started: number,
  ): Promise<void> {
    if (auth !== undefined && !(await authorised(auth, req))) {
      plain(res, 401, 'Unauthorized', {
        'WWW-Authenticate': auth.basic !== undefined ? 'Basic realm="metrics"' : 'Bearer',
      });
      countScrape(rt, 'unauthorized', started);
      return;
    }
    if (inFlight >= maxConcurrent) {
      plain(res, 503, 'Too many concurrent scrapes', { 'Retry-After': '1' });
      countScrape(rt, 'overload', started);
      return;
    }
    inFlight++;
    try {
      let text: Buffer;
      let backing: Buffer | undefined;
      // the format the scraper asks for (Accept): 0.0.4 text, OpenMetrics or protobuf
      let format = negotiate(req.headers.accept);
      // the app's own registries write 0.0.4 text: the whole body stays in that one format
      const registries = (rt as { registries?: readonly unknown[] }).registries;
      if (registries !== undefined && registries.length > 0) format = TEXT_FORMAT;
      if (typeof rt.collect === 'function') {
        const collected = await withTimeout(rt.collect(timeoutMs), timeoutMs);
        const written = await writeInSteps(format.writer(collected, buffers.take()), res, buffers);
        if (written === undefined) {
          countScrape(rt, 'aborted', started); // the scraper went away
          return;
        }
        ({ bytes: text, backing } = written);
        // the app's own prom-client registries (the `registries` option), after meterline's metrics
        const foreign = typeof rt.foreignScrape === 'function' ? await rt.foreignScrape(collected) : '';
        if (foreign !== '') {
          text = Buffer.concat([text, Buffer.from(foreign, 'utf8')]);
          buffers.give(backing);
          backing = undefined;
        }
      } else {
        // a runtime of another version of core, without collect(), still answers through scrape()
        text = Buffer.from(await withTimeout(rt.scrape(timeoutMs), timeoutMs), 'utf8');
        format = TEXT_FORMAT;
      }
      const accept = req.headers['accept-encoding'];
      const headers: Record<string, string | number> = {
        'Content-Type': format.contentType,
        'Cache-Control': 'no-store',
        Vary: 'Accept, Accept-Encoding',
      };
      let body: Buffer;
      if (useGzip && typeof accept === 'string' && /\bgzip\b/i.test(accept)) {
        // level 1: the exposition text is repetitive enough that higher levels cost CPU for little gain
        body = await gzipAsync(text, { level: 1 });
        headers['Content-Encoding'] = 'gzip';
        if (backing !== undefined) buffers.give(backing); // compressed: the text is no longer needed
        backing = undefined;
      } else {
        body = text;
      }
      headers['Content-Length'] = body.length;
      res.writeHead(200, headers);
      // counted when the response is done: the whole body handed to the socket, or the scraper gone first
      res.once('close', () => countScrape(rt, res.writableFinished ? 'ok' : 'aborted', started));
      if (req.method === 'HEAD' || backing === undefined) {
        if (backing !== undefined) buffers.give(backing);
        res.end(req.method === 'HEAD' ? undefined : body);
      } else {
        // given back once the body is handed to the socket; never, if the response fails or is aborted
        sendInSlices(res, body, backing, buffers);
      }
    } finally {
      inFlight--;
    }
  }

  return function metricsHandler(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      plain(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
      return;
    }
    const started = performance.now();
    let rt: Meterline | undefined;
    try {
      rt = runtime ?? getMeterline();
    } catch (err) {
      reportOnce('serving /metrics', err);
      plain(res, 500, 'metrics collection failed');
      return;
    }
    serve(req, res, rt, started).catch((err: unknown) => {
      reportOnce('serving /metrics', err);
      plain(res, 500, 'metrics collection failed');
      countScrape(rt, err instanceof CollectionTimeout ? 'timeout' : 'error', started);
    });
  };
}

/** Count one scrape in the runtime's self-metrics (a runtime of another core version has none). */
function countScrape(rt: Meterline, result: ScrapeResult, started: number): void {
  selfMetricsOf(rt)?.scraped(result, (performance.now() - started) / 1000);
}

/** Serve the shared handler on its own port (127.0.0.1 unless told otherwise). */
export async function startMetricsServer(options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const where = 'meterline.startMetricsServer';
  validate.checkObject(where, 'options', options);
  validate.checkKnown(where, options, SERVER_OPTION_KEYS);
  validate.checkInteger(where, 'port', options.port, 0, 65535);
  validate.checkString(where, 'host', options.host);
  validate.checkString(where, 'path', options.path);
  const { port = DEFAULTS.port, host = DEFAULTS.host, path = DEFAULTS.path, ...handlerOptions } = options;
  if (!path.startsWith('/')) validate.fail(where, 'path', path, 'expected a path starting with "/"');
  const handler = createMetricsHandler(handlerOptions);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if ((q === -1 ? url : url.slice(0, q)) !== path) {
      plain(res, 404, `Not found: metrics are served at ${path}`);
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    port: address.port,
    host: address.address,
    url: `http://${shownHost}:${address.port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
