// The last run of a scheduled push or textfile write when the process ends, without changing how it ends: after
// a SIGTERM or SIGINT the process still dies of the signal (unless the app has its own listener, which then
// decides), and `beforeExit` still lets it exit.

/** Signals that trigger the final run by default. */
export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = Object.freeze(['SIGTERM', 'SIGINT']);

/** `work()`, but resolved after `timeoutMs` at the latest, never rejected. */
function bounded(work: () => Promise<void>, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    work()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        resolve();
      });
  });
}

/**
 * Call `final` once when the process gets one of `signals`, and `flush` when it reaches `beforeExit`, waiting at
 * most `timeoutMs` for either. `beforeExit` is not the end: it comes whenever the event loop runs empty, and the
 * work `flush` starts (or anything else) may revive the process, so `flush` must not stop the schedule, and must
 * decline to run again right after itself (or the process would never exit). Returns a function that removes the
 * hooks (call it when the schedule is stopped by hand).
 */
export function onShutdown(
  final: () => Promise<void>,
  flush: () => Promise<void>,
  signals: readonly NodeJS.Signals[],
  timeoutMs: number,
): () => void {
  let ending: Promise<void> | undefined;
  const finish = (): Promise<void> => (ending ??= bounded(final, timeoutMs));

  const onSignal = (signal: NodeJS.Signals): void => {
    const repeated = ending !== undefined;
    if (repeated) {
      // a second Ctrl-C while the final push runs: stop waiting
      remove();
      reraise(signal);
      return;
    }
    void finish().then(() => {
      remove();
      reraise(signal);
    });
  };
  const onBeforeExit = (): void => {
    // the flush keeps the event loop busy; once done, beforeExit comes again, the flush declines, and the process
    // exits with the code it had
    void bounded(flush, timeoutMs);
  };
  for (const signal of signals) process.on(signal, onSignal);
  process.on('beforeExit', onBeforeExit);

  function remove(): void {
    for (const signal of signals) process.off(signal, onSignal);
    process.off('beforeExit', onBeforeExit);
  }
  return remove;
}

/**
 * With no other listener left, Node's default for the signal applies again: send it to ourselves so the process
 * ends as it would have without us (killed by the signal, exit status 128 + n). Another listener (the app's own
 * shutdown) has already been called with the same signal and decides.
 */
function reraise(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
