import { parseExposition } from './exposition.js';
import { snapshot, type TargetSnapshot } from './families.js';

// Targets: what the user typed, as URLs, and one scrape of each.

/** `host:port`, `http://host:port` or a full URL; a URL without a path gets `/metrics`. */
export function targetUrl(text: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`not a URL: ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`not an http(s) URL: ${text}`);
  if (url.pathname === '/' && !text.endsWith('/')) url.pathname = '/metrics';
  return url;
}

/** How a target is named on screen: host:port, and the path unless it is /metrics. */
export function targetName(url: URL): string {
  return url.host + (url.pathname === '/metrics' ? '' : url.pathname) + url.search;
}

export type ScrapeResult = { ok: true; snapshot: TargetSnapshot } | { ok: false; error: string };

/** One scrape: the text exposition (gzip is decoded by fetch), or why there is none. Never throws. */
export async function scrapeTarget(
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<ScrapeResult> {
  const started = Date.now();
  try {
    const res = await fetch(url, {
      headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1', ...headers },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (res.status !== 200) return { ok: false, error: `HTTP ${res.status} ${res.statusText}`.trim() };
    return { ok: true, snapshot: snapshot(parseExposition(text), started) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return { ok: false, error: `no answer within ${timeoutMs} ms` };
    return { ok: false, error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}
