import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
// parse-prometheus-text-format ships no types
// @ts-expect-error no declaration file
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export type Labels = Record<string, string>;
export interface Sample {
  labels?: Labels;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
export interface Family {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Sample[];
}

/**
 * A parsed scrape with lookups by name and exact label set. Sample lines are parsed by
 * parse-prometheus-text-format; its histogram grouping loses labels, so every sample line is parsed as its own
 * untyped series (`x_bucket`, `x_sum`, `x_count`) and histograms are read through those.
 */
export class Scrape {
  /** series by sample name (`x_count`, `x_total`, ...) */
  readonly series = new Map<string, Sample[]>();
  /** TYPE of each family as declared */
  readonly types = new Map<string, string>();
  constructor(readonly text: string) {
    const sampleLines: string[] = [];
    for (const line of text.split('\n')) {
      if (line.startsWith('# TYPE ')) {
        const [, , name, type] = line.split(' ');
        this.types.set(name, type);
      } else if (line !== '' && !line.startsWith('#')) sampleLines.push(line);
    }
    const parsed = parsePrometheusTextFormat(sampleLines.join('\n') + '\n') as Family[];
    for (const f of parsed) {
      const list = this.series.get(f.name) ?? [];
      list.push(...f.metrics);
      this.series.set(f.name, list);
    }
  }

  /** All samples named `name` (for histograms: one per label set, from `_count`) whose labels include `match`. */
  samples(name: string, match: Labels = {}): Sample[] {
    const list = this.series.get(this.types.get(name) === 'histogram' ? name + '_count' : name) ?? [];
    return list.filter((m) => Object.entries(match).every(([k, v]) => (m.labels ?? {})[k] === v));
  }

  /** The one sample named `name` with exactly these labels (undefined if none). */
  exact(name: string, labels: Labels): Sample | undefined {
    const want = Object.entries(labels).sort();
    return (this.series.get(name) ?? []).find((m) => {
      const have = Object.entries(m.labels ?? {}).sort();
      return have.length === want.length && have.every(([k, v], i) => k === want[i][0] && v === want[i][1]);
    });
  }

  /** Value of a counter/gauge sample with exactly these labels (0 if absent). */
  value(name: string, labels: Labels = {}): number {
    const s = this.exact(name, labels);
    return s === undefined ? 0 : Number(s.value);
  }

  /** `_count` of a histogram series with exactly these labels (0 if absent). */
  count(name: string, labels: Labels): number {
    return this.value(name + '_count', labels);
  }

  /** `_sum` of a histogram series with exactly these labels (0 if absent). */
  sum(name: string, labels: Labels): number {
    return this.value(name + '_sum', labels);
  }

  /** Cumulative bucket count of a histogram series at `le`. */
  bucket(name: string, labels: Labels, le: string): number {
    return this.value(name + '_bucket', { ...labels, le });
  }

  /** Label sets of the samples named `name` (histograms: one per series) whose labels include `match`. */
  labelSets(name: string, match: Labels = {}): Labels[] {
    return this.samples(name, match).map((m) => m.labels ?? {});
  }

  /** Sum of `_count` over every series of a histogram whose labels include `match`. */
  totalCount(name: string, match: Labels = {}): number {
    return this.samples(name, match).reduce((a, s) => a + Number(s.value ?? 0), 0);
  }

  /** Number of series (label sets) of a family. */
  seriesCount(name: string): number {
    return this.samples(name).length;
  }

  /** Number of sample lines in the text. */
  get lines(): number {
    return this.text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  }
}

export interface ScrapeResult {
  status: number;
  headers: Headers;
  text: string;
  scrape: Scrape;
}

/** GET a metrics endpoint and parse it. */
export async function scrape(url: string, init: RequestInit = {}): Promise<ScrapeResult> {
  const res = await fetch(url, init);
  const raw = Buffer.from(await res.arrayBuffer());
  // fetch decompresses gzip itself; a raw gzip body (no decoding) is handled too
  const text = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return { status: res.status, headers: res.headers, text, scrape: new Scrape(res.status === 200 ? text : '') };
}

/** The parsed scrape of a metrics endpoint that must answer 200. */
export async function metricsAt(url: string, init: RequestInit = {}): Promise<Scrape> {
  const r = await scrape(url, init);
  if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
  return r.scrape;
}

export const PROMTOOL = '/usr/bin/promtool';

/** `promtool check metrics` on a scrape: returns its findings (empty = clean). Throws if promtool is missing. */
export function promtoolCheck(text: string): { code: number; output: string } {
  if (!existsSync(PROMTOOL)) {
    throw new Error(`${PROMTOOL} not found: install the Debian package "prometheus" (.ci/run does)`);
  }
  if (text.trim() === '') throw new Error('empty scrape: promtool accepts empty input, refusing to check it');
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { code: r.status ?? -1, output: (r.stdout + r.stderr).trim() };
}
