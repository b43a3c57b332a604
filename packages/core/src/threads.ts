import { BroadcastChannel, isMainThread, threadId, type Worker } from 'node:worker_threads';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { sumTotals, toWire, type Source, type WireTotals } from './aggregate.js';
import { reportOnce } from './report.js';

// worker_threads: instruments recorded in worker threads (each thread has its own runtime) appear on the main
// thread's /metrics, summed. The threads and the main thread meet on one process-wide BroadcastChannel, unref'd so it
// never keeps a thread alive; nothing is exchanged until the main thread collects.

const CHANNEL = 'meterline.threads';
/** How long a collection waits for each known thread (a busy thread contributes its last totals). */
export const THREAD_TIMEOUT_MS = 1000;

type Message =
  | { t: 'ready'; thread: number }
  | { t: 'collect'; id: number }
  | { t: 'totals'; id: number; thread: number; totals: WireTotals };

interface ThreadEntry {
  last: WireTotals | undefined;
  /** collections waiting for this thread's answer, by id */
  waiting: Map<number, () => void>;
}

function openChannel(onMessage: (m: Message) => void): BroadcastChannel {
  const channel = new BroadcastChannel(CHANNEL);
  (channel as unknown as { unref?: () => void }).unref?.();
  channel.onmessage = (event: unknown) => {
    try {
      const data = (event as { data?: unknown }).data;
      if (data !== null && typeof data === 'object' && 't' in data) onMessage(data as Message);
    } catch (err) {
      reportOnce('thread metrics message', err);
    }
  };
  return channel;
}

/** In the main thread: the totals of the process's worker threads, for the main thread's collection. */
export class ThreadTotals {
  private readonly threads = new Map<number, ThreadEntry>();
  private retired: WireTotals = { s: [] };
  private seq = 0;
  private readonly channel: BroadcastChannel;

  constructor() {
    this.channel = openChannel((m) => this.onMessage(m));
    // a thread that exits keeps its last reported counters and histograms in the sums
    process.on('worker', this.onWorker);
    // threads whose runtime started before this one announced themselves to nobody: ask them now
    this.channel.postMessage({ t: 'collect', id: 0 } satisfies Message);
  }

  private readonly onWorker = (worker: Worker): void => {
    const id = worker.threadId;
    worker.once('exit', () => this.retire(id));
  };

  close(): void {
    process.off('worker', this.onWorker);
    this.channel.close();
  }

  get size(): number {
    return this.threads.size;
  }

  private onMessage(m: Message): void {
    if (m.t === 'ready') {
      if (!this.threads.has(m.thread)) this.threads.set(m.thread, { last: undefined, waiting: new Map() });
    } else if (m.t === 'totals') {
      let entry = this.threads.get(m.thread);
      if (entry === undefined) {
        entry = { last: undefined, waiting: new Map() };
        this.threads.set(m.thread, entry);
      }
      entry.last = m.totals;
      entry.waiting.get(m.id)?.();
    }
  }

  private retire(thread: number): void {
    const entry = this.threads.get(thread);
    if (entry === undefined) return;
    this.threads.delete(thread);
    for (const done of entry.waiting.values()) done();
    if (entry.last !== undefined) {
      this.retired = sumTotals(
        [
          { name: 'retired', totals: this.retired },
          { name: String(thread), totals: entry.last, monotonicOnly: true },
        ],
        { gauges: 'sum' },
      );
    }
  }

  /** The main thread's own totals plus every thread's (asked now, waiting at most THREAD_TIMEOUT_MS). */
  async sumWith(own: ResourceMetrics): Promise<WireTotals> {
    if (this.threads.size > 0) {
      const id = ++this.seq;
      const asked = [...this.threads.values()];
      await new Promise<void>((resolve) => {
        let left = asked.length;
        const timer = setTimeout(resolve, THREAD_TIMEOUT_MS);
        for (const entry of asked) {
          entry.waiting.set(id, () => {
            entry.waiting.delete(id);
            if (--left === 0) {
              clearTimeout(timer);
              resolve();
            }
          });
        }
        this.channel.postMessage({ t: 'collect', id } satisfies Message);
      });
      for (const entry of asked) entry.waiting.delete(id);
    }
    const sources: Source[] = [
      { name: 'main', totals: toWire(own) },
      { name: 'retired', totals: this.retired, monotonicOnly: true },
    ];
    for (const [thread, entry] of this.threads) {
      if (entry.last !== undefined) sources.push({ name: String(thread), totals: entry.last });
    }
    return sumTotals(sources, { gauges: 'sum' });
  }
}

/** In a worker thread: answers the main thread's collections with this thread's totals. */
export class ThreadReporter {
  private readonly channel: BroadcastChannel;
  constructor(collectOwn: () => Promise<ResourceMetrics>) {
    this.channel = openChannel((m) => {
      if (m.t !== 'collect') return;
      collectOwn().then(
        (rm) =>
          this.channel.postMessage({
            t: 'totals',
            id: m.id,
            thread: threadId,
            totals: toWire(rm),
          } satisfies Message),
        (err: unknown) => reportOnce('thread metrics collection', err),
      );
    });
    this.channel.postMessage({ t: 'ready', thread: threadId } satisfies Message);
  }

  close(): void {
    this.channel.close();
  }
}

/** The main thread's aggregator, or this thread's reporter. */
export function attachThreads(collectOwn: () => Promise<ResourceMetrics>): ThreadTotals | ThreadReporter {
  return isMainThread ? new ThreadTotals() : new ThreadReporter(collectOwn);
}
