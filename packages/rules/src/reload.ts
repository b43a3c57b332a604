// Make a running Prometheus read its rule files again after they were written: `POST /-/reload` (Prometheus
// started with --web.enable-lifecycle; the answer says whether the new files loaded) or SIGHUP to its PID (no answer:
// check prometheus_config_last_reload_successful).

/** What a reload did, for the CLI's output. */
export interface ReloadResult {
  how: 'http' | 'signal';
  target: string;
}

/**
 * POST `<url>/-/reload` (`url` is Prometheus' base URL, e.g. http://127.0.0.1:9090). Throws with Prometheus' answer
 * when it refuses: 403 without --web.enable-lifecycle, 500 when the new rules or config do not load.
 */
export async function reloadPrometheus(url: string, timeoutMs = 10_000): Promise<ReloadResult> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new TypeError(
      `meterline rules: --reload must be Prometheus' URL, e.g. http://127.0.0.1:9090, got ${JSON.stringify(url)}`,
    );
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError(`meterline rules: --reload must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  const endpoint = new URL(base.pathname.replace(/\/+$/, '') + '/-/reload', base).toString();
  let res: Response;
  try {
    res = await fetch(endpoint, { method: 'POST', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new Error(
      `meterline rules: reloading Prometheus at ${endpoint} failed: ${cause ?? (err as Error).message}`,
    );
  }
  const body = (await res.text().catch(() => '')).trim();
  if (res.status === 403) {
    throw new Error(
      `meterline rules: Prometheus at ${endpoint} refused the reload (403): start it with --web.enable-lifecycle, or send it SIGHUP (--reload-pid)`,
    );
  }
  if (!res.ok) {
    throw new Error(
      `meterline rules: Prometheus at ${endpoint} answered ${res.status}${body ? `: ${body}` : ''}`,
    );
  }
  return { how: 'http', target: endpoint };
}

/** Send SIGHUP to a Prometheus process: it reloads its configuration and rule files. */
export function reloadPrometheusByPid(pid: number): ReloadResult {
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new TypeError(`meterline rules: --reload-pid must be a process id, got ${JSON.stringify(pid)}`);
  }
  try {
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    throw new Error(
      `meterline rules: sending SIGHUP to ${pid} failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return { how: 'signal', target: `pid ${pid}` };
}
