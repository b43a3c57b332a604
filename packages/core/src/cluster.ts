import cluster, { type Worker } from 'node:cluster';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { fromWire, sumTotals, toWire, type Source, type WireMetric, type WireTotals } from './aggregate.js';
import { SCOPE_VERSION } from './constants.js';
import { reportOnce } from './report.js';
import * as validate from './validate.js';

// node:cluster: one scrape of the shared port answers the sum over all workers. The primary (one call to
// `clusterMetrics()`) asks every worker for its totals when a worker receives a scrape, sums them with the last
// totals of workers that exited, and sends the sum back to the worker that serves the scrape. Workers need nothing:
// their runtime announces itself to the primary and switches to the cluster sum once the primary answers.

/** The field every meterline IPC message carries (other messages of the application are left alone). */
const TAG = 'meterline.cluster';

type ToPrimary =
  { [TAG]: 'ready' } | { [TAG]: 'scrape'; id: number } | { [TAG]: 'totals'; id: number; totals: WireTotals };
type ToWorker =
  | { [TAG]: 'on' }
  | { [TAG]: 'collect'; id: number }
  | { [TAG]: 'result'; id: number; totals?: WireTotals; error?: string };

/** Options of `clusterMetrics()`. */
export interface ClusterMetricsOptions {
  /**
   * How long a scrape waits for each worker's totals, ms (default 2000). A worker that does not answer in time is
   * served with its last totals (counted in `meterline_cluster_collect_timeouts_total`); keep it below the scrape
   * timeout of Prometheus and the handler's `timeoutMs`.
   */
  workerTimeoutMs?: number;
  /**
   * Gauges (in-flight requests, open connections, your own gauges and up-down counters): `'sum'` over workers
   * (default) or `'label'`: one series per worker with a `worker` label (the cluster worker id). Counters and
   * histograms are always summed.
   */
  gauges?: 'sum' | 'label';
}

export interface ClusterMetrics {
  /** The sum over all workers now (what a scrape of any worker serves). */
  collect(): Promise<WireTotals>;
  /** Stop answering workers (they fall back to their own totals). */
  close(): void;
}

interface WorkerEntry {
  worker: Worker;
  last: WireTotals | undefined;
  waiting: Map<number, () => void>;
}

const kPrimary = Symbol.for('meterline.cluster.primary');

/**
 * In the cluster primary: make a scrape of any worker answer the sum over all workers. Counters never go back: a
 * worker that exits keeps contributing the totals it last reported (the requests it served after its last report
 * are lost with it), and a worker that does not answer in time contributes its last totals.
 */
export function clusterMetrics(options: ClusterMetricsOptions = {}): ClusterMetrics {
  const where = 'meterline.clusterMetrics';
  validate.checkObject(where, 'options', options);
  validate.checkKnown(where, options, ['workerTimeoutMs', 'gauges']);
  validate.checkInteger(where, 'workerTimeoutMs', options.workerTimeoutMs, 1, 600_000);
  if (options.gauges !== undefined && options.gauges !== 'sum' && options.gauges !== 'label') {
    validate.fail(where, 'gauges', options.gauges, "expected 'sum' or 'label'");
  }
  if (!cluster.isPrimary) throw new Error(`${where}: call it in the cluster primary, not in a worker`);
  const g = globalThis as { [kPrimary]?: ClusterMetrics };
  if (g[kPrimary] !== undefined) throw new Error(`${where}: already called in this process`);
  const timeoutMs = options.workerTimeoutMs ?? 2000;
  const gauges = options.gauges ?? 'sum';
  const workers = new Map<number, WorkerEntry>();
  let retired: WireTotals = { s: [] };
  let retiredCount = 0;
  let timeouts = 0;
  let seq = 0;
  const started = Date.now();

  const send = (worker: Worker, msg: ToWorker): void => {
    if (!worker.isConnected()) return;
    try {
      worker.send(msg, undefined, (err) => {
        if (err) reportOnce('cluster message to a worker', err);
      });
    } catch (err) {
      reportOnce('cluster message to a worker', err);
    }
  };

  async function collect(): Promise<WireTotals> {
    const id = ++seq;
    const asked = [...workers.values()].filter((w) => w.worker.isConnected());
    await new Promise<void>((resolve) => {
      let left = asked.length;
      if (left === 0) return resolve();
      const timer = setTimeout(() => {
        for (const w of asked) {
          if (w.waiting.delete(id)) timeouts++;
        }
        resolve();
      }, timeoutMs);
      for (const w of asked) {
        w.waiting.set(id, () => {
          if (--left === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
        send(w.worker, { [TAG]: 'collect', id });
      }
    });
    const sources: Source[] = [{ name: 'retired', totals: retired, monotonicOnly: true }];
    for (const w of workers.values()) {
      if (w.last !== undefined) sources.push({ name: String(w.worker.id), totals: w.last });
    }
    sources.push({ name: 'primary', totals: selfMetrics(), unlabelled: true });
    return sumTotals(sources, { gauges });
  }

  function selfMetrics(): WireTotals {
    const metric = (n: string, d: string, k: WireMetric['k'], value: number): WireMetric => ({
      n,
      d,
      u: '{worker}',
      v: 1,
      k,
      t: started,
      p: [[{}, value]],
    });
    return {
      s: [
        {
          n: '@meterline/core/cluster',
          v: SCOPE_VERSION,
          m: [
            metric(
              'meterline.cluster.collect.timeouts',
              'Times a worker did not answer a cluster scrape in time and was served with its last totals.',
              'c',
              timeouts,
            ),
            metric(
              'meterline.cluster.retired',
              'Workers that exited; their last reported totals stay in the sums.',
              'c',
              retiredCount,
            ),
            metric('meterline.cluster.workers', 'Workers connected to the primary.', 'u', workers.size),
          ],
        },
      ],
    };
  }

  function onMessage(worker: Worker, msg: unknown): void {
    if (msg === null || typeof msg !== 'object' || !(TAG in msg)) return;
    try {
      const m = msg as ToPrimary;
      switch (m[TAG]) {
        case 'ready':
          workers.set(worker.id, workers.get(worker.id) ?? { worker, last: undefined, waiting: new Map() });
          send(worker, { [TAG]: 'on' });
          break;
        case 'totals': {
          const w = workers.get(worker.id);
          if (w === undefined) break;
          w.last = m.totals; // IPC keeps order: a late answer is still newer than the one before
          w.waiting.get(m.id)?.();
          w.waiting.delete(m.id);
          break;
        }
        case 'scrape':
          collect().then(
            (totals) => send(worker, { [TAG]: 'result', id: m.id, totals }),
            (err: unknown) => send(worker, { [TAG]: 'result', id: m.id, error: String(err) }),
          );
          break;
      }
    } catch (err) {
      reportOnce('cluster primary', err);
    }
  }

  function onExit(worker: Worker): void {
    const w = workers.get(worker.id);
    if (w === undefined) return;
    workers.delete(worker.id);
    for (const done of w.waiting.values()) done();
    if (w.last !== undefined) {
      retired = sumTotals(
        [
          { name: 'retired', totals: retired },
          { name: String(worker.id), totals: w.last, monotonicOnly: true },
        ],
        { gauges: 'sum' },
      );
    }
    retiredCount++;
  }

  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  // workers whose runtime started before this call: tell them now
  for (const worker of Object.values(cluster.workers ?? {})) {
    if (worker !== undefined) send(worker, { [TAG]: 'on' });
  }
  const api: ClusterMetrics = {
    collect,
    close() {
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      g[kPrimary] = undefined;
    },
  };
  g[kPrimary] = api;
  return api;
}

/** A collection of this process's own totals (the runtime's, threads included). */
type CollectOwn = () => Promise<ResourceMetrics>;

/**
 * In a cluster worker: the link to the primary. Inactive (the worker serves its own totals) until the primary
 * answers that it aggregates.
 */
export class ClusterWorkerLink {
  active = false;
  private seq = 0;
  private readonly pending = new Map<number, (m: ToWorker & { [TAG]: 'result' }) => void>();

  private readonly listener = (msg: unknown): void => this.onMessage(msg);

  constructor(private readonly collectOwn: CollectOwn) {
    process.on('message', this.listener);
    this.send({ [TAG]: 'ready' });
  }

  close(): void {
    this.active = false;
    process.off('message', this.listener);
  }

  /** Only in a cluster worker with an IPC channel (a forked child that is not a cluster worker is left alone). */
  static attach(collectOwn: CollectOwn): ClusterWorkerLink | undefined {
    if (!cluster.isWorker || typeof process.send !== 'function') return undefined;
    return new ClusterWorkerLink(collectOwn);
  }

  private send(msg: ToPrimary): void {
    try {
      process.send?.(msg, undefined, undefined, (err: Error | null) => {
        if (err) reportOnce('cluster message to the primary', err);
      });
    } catch (err) {
      reportOnce('cluster message to the primary', err);
    }
  }

  private onMessage(msg: unknown): void {
    if (msg === null || typeof msg !== 'object' || !(TAG in msg)) return;
    const m = msg as ToWorker;
    switch (m[TAG]) {
      case 'on':
        // the primary started aggregating after this worker announced itself: announce again so it asks us
        if (!this.active) this.send({ [TAG]: 'ready' });
        this.active = true;
        break;
      case 'collect':
        this.collectOwn().then(
          (rm) => this.send({ [TAG]: 'totals', id: m.id, totals: toWire(rm) }),
          (err: unknown) => reportOnce('cluster collection in a worker', err),
        );
        break;
      case 'result':
        this.pending.get(m.id)?.(m);
        break;
    }
  }

  /** The sum over all workers, from the primary, under this worker's resource. */
  collect(resource: ResourceMetrics['resource'], timeoutMs: number): Promise<ResourceMetrics> {
    const id = ++this.seq;
    return new Promise<ResourceMetrics>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the cluster primary did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (m.totals !== undefined) resolve(fromWire(m.totals, resource));
        else reject(new Error(`cluster aggregation failed: ${m.error ?? 'no totals'}`));
      });
      this.send({ [TAG]: 'scrape', id });
    });
  }
}
