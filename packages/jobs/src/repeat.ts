import { onShutdown } from './shutdown.js';

// Run a task on an interval: never two at once, a shorter wait after a failure (doubling up to the interval),
// an optional final run at stop or process shutdown. Timers are unref'd: a schedule never keeps a process alive.

export interface RepeatSettings {
  intervalMs: number;
  /** Wait after the first consecutive failure, doubled for each further one, never above intervalMs. */
  retryMs: number;
  /** Run once more on stop() and on process shutdown. */
  final: boolean;
  signals: readonly NodeJS.Signals[];
  finalTimeoutMs: number;
}

/** beforeExit flushes in a row without another run in between; then the process may exit. */
const MAX_EXIT_FLUSHES = 3;

/**
 * `task` resolves true on success (or when `onlyIfChanged` is set and nothing changed since its last success),
 * false on a failure it has reported itself.
 */
export class Repeater {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<boolean> | undefined;
  private stopped = false;
  private removeHooks: (() => void) | undefined;
  /** Failed runs in a row (0 after a success). */
  consecutiveFailures = 0;
  /** beforeExit flushes since the last other run. */
  private exitFlushes = 0;

  constructor(
    private readonly task: (onlyIfChanged: boolean) => Promise<boolean>,
    private readonly settings: RepeatSettings,
  ) {
    if (settings.final) {
      this.removeHooks = onShutdown(
        () => this.stop(true),
        () => this.flushAtExit(),
        settings.signals,
        settings.finalTimeoutMs,
      );
    }
    this.schedule(0);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * At `beforeExit`: run once more if anything changed since the last run (the task compares), at most
   * MAX_EXIT_FLUSHES times in a row (a gauge that changes on every collection must not keep the process alive).
   * The schedule goes on in case the process does.
   */
  async flushAtExit(): Promise<void> {
    if (this.stopped || this.exitFlushes >= MAX_EXIT_FLUSHES) return;
    this.exitFlushes++;
    await this.run(true);
  }

  /** Run now (after the run in flight, if any); resolves true on success. */
  runNow(): Promise<boolean> {
    this.exitFlushes = 0;
    return this.run(false);
  }

  private async run(onlyIfChanged: boolean): Promise<boolean> {
    while (this.inFlight !== undefined) await this.inFlight;
    const run = this.task(onlyIfChanged).then(
      (ok) => {
        this.consecutiveFailures = ok ? 0 : this.consecutiveFailures + 1;
        return ok;
      },
      () => {
        this.consecutiveFailures++;
        return false;
      },
    );
    this.inFlight = run;
    try {
      return await run;
    } finally {
      if (this.inFlight === run) this.inFlight = undefined;
    }
  }

  /** Stop the schedule; with `final`, run once more after the run in flight. Idempotent. */
  async stop(final: boolean): Promise<void> {
    if (this.stopped) {
      while (this.inFlight !== undefined) await this.inFlight;
      return;
    }
    this.stopped = true;
    clearTimeout(this.timer);
    this.removeHooks?.();
    if (final) await this.runNow();
    else while (this.inFlight !== undefined) await this.inFlight;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runNow().then(() => this.schedule(this.nextDelay()));
    }, delay);
    this.timer.unref();
  }

  private nextDelay(): number {
    const { intervalMs, retryMs } = this.settings;
    if (this.consecutiveFailures === 0) return intervalMs;
    return Math.min(retryMs * 2 ** (this.consecutiveFailures - 1), intervalMs);
  }
}

/** Self-metric lines that change with every collection or push itself: not a change worth a beforeExit flush. */
const VOLATILE = /^(?:# (?:HELP|TYPE) )?meterline_(?:collection_|scrape_|scrapes_|push_)/;

/** The exposition without the lines of VOLATILE families, to tell whether anything was counted since. */
export function stableText(text: string): string {
  return text
    .split('\n')
    .filter((line) => !VOLATILE.test(line))
    .join('\n');
}
