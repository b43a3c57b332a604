import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorised, plain } from './handler.js';
import { PageHistory } from './page-history.js';
import pageHtml from './page.html';
import { reportOnce } from './report.js';
import type { HttpStore } from './store.js';
import type { MetricsAuth } from './types.js';

/** Subpath of the page that answers its data (JSON). */
export const PAGE_DATA_SUFFIX = '/data';

// Everything the page loads comes from here: no CDN, no other origin.
const PAGE_HEADERS = Object.freeze({
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy':
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
});

/** True if `url` is `path`, with or without a query (no allocation). */
export function atPath(url: string, path: string): boolean {
  if (!url.startsWith(path)) return false;
  const next = url.charCodeAt(path.length);
  return Number.isNaN(next) || next === 63; /* '?' */
}

/**
 * The live page (the `page` option): an HTML page with charts of per-route rate, error ratio and latency, and
 * its data endpoint, both behind the same `auth` as the metrics path. The history behind them is sampled from
 * the store on a timer that starts with the first request for either.
 */
export class PageServer {
  readonly dataPath: string;
  private readonly html: Buffer;
  readonly history: PageHistory;

  constructor(
    readonly path: string,
    store: HttpStore,
    private readonly auth: MetricsAuth | undefined,
  ) {
    this.dataPath = path + PAGE_DATA_SUFFIX;
    this.html = Buffer.from(pageHtml, 'utf8');
    this.history = new PageHistory(store);
  }

  /** True if `url` is the page or its data endpoint. */
  matches(url: string): boolean {
    return atPath(url, this.path) || atPath(url, this.dataPath);
  }

  serve(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      plain(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
      return;
    }
    this.serveAuthorised(req, res).catch((err: unknown) => {
      reportOnce('serving the metrics page', err);
      plain(res, 500, 'metrics page failed');
    });
  }

  private async serveAuthorised(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = this.auth;
    if (auth !== undefined && !(await authorised(auth, req))) {
      plain(res, 401, 'Unauthorized', {
        'WWW-Authenticate': auth.basic !== undefined ? 'Basic realm="metrics"' : 'Bearer',
      });
      return;
    }
    this.history.touch();
    const isData = atPath(req.url ?? '', this.dataPath);
    const body = isData ? Buffer.from(JSON.stringify(this.history.data()), 'utf8') : this.html;
    res.writeHead(200, {
      ...(isData
        ? { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }
        : PAGE_HEADERS),
      'Content-Length': body.length,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
