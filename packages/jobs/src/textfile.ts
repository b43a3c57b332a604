import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { getMeterline, type Meterline } from '@meterline/core';
import { validate } from '@meterline/core/adapter';
import { selectedText, type MetricSelection } from './push.js';
import { Repeater, stableText } from './repeat.js';
import { callSafely, messageOf } from './report.js';
import { SHUTDOWN_SIGNALS } from './shutdown.js';
import { checkInterval, checkSignals, checkSelection } from './option-checks.js';

// node_exporter's textfile collector: it reads every `*.prom` file of its `--collector.textfile.directory` on each
// scrape. A file is replaced whole (temp file in the same directory, then rename), so a scrape never reads half a
// write: rename within one file system swaps the name atomically.

/** Mode of the written files: readable by node_exporter whatever user it runs as. */
export const TEXTFILE_MODE = 0o644;

/** Check a textfile path: absolute or relative, its name ending in `.prom` (the only files the collector reads). */
export function checkTextfilePath(where: string, option: string, path: unknown): string {
  validate.checkString(where, option, path);
  if (typeof path !== 'string')
    return validate.fail(where, option, path, 'expected the path of a *.prom file');
  if (!basename(path).endsWith('.prom') || basename(path) === '.prom') {
    validate.fail(
      where,
      option,
      path,
      'expected a file name ending in ".prom": node_exporter reads only *.prom files',
    );
  }
  return resolve(path);
}

/**
 * Replace `path` with `text` atomically: write a temp file next to it (a dot file not ending in `.prom`, which
 * the collector skips), give it mode 0644, flush it to disk, rename it over `path`. A reader sees the old file or
 * the new one, never a part.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', TEXTFILE_MODE);
  try {
    try {
      await handle.writeFile(text, 'utf8');
      await handle.chmod(TEXTFILE_MODE); // the umask may have taken bits off at open
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

export interface TextfileOptions {
  /** The file to write, its name ending in `.prom`, in node_exporter's `--collector.textfile.directory`. */
  path: string;
  /** Write only these families (default: everything the process exposes on /metrics). */
  metrics?: MetricSelection;
  /** Include `target_info` (default true). */
  targetInfo?: boolean;
  /** The runtime to collect from (default: the process-wide one). */
  runtime?: Meterline;
}

const TEXTFILE_KEYS = ['path', 'metrics', 'targetInfo', 'runtime'] as const;

function checkTextfileOptions(where: string, options: TextfileOptions, extra: readonly string[]): string {
  validate.checkObject(where, 'options', options);
  if (options === undefined) validate.fail(where, 'path', undefined, 'expected { path } at least');
  validate.checkKnown(where, options, [...TEXTFILE_KEYS, ...extra]);
  const path = checkTextfilePath(where, 'path', options.path);
  validate.checkBoolean(where, 'targetInfo', options.targetInfo);
  checkSelection(where, options.metrics);
  return path;
}

/** Write everything the process exposes (or the `metrics` selected) to a `*.prom` file, atomically, mode 0644. */
export async function writeTextfile(options: TextfileOptions): Promise<void> {
  const path = checkTextfileOptions('meterline.writeTextfile', options, []);
  await writeFileAtomically(path, await selectedText(options.runtime ?? getMeterline(), options));
}

export interface ScheduledTextfileOptions extends TextfileOptions {
  /** Time between writes in ms (default 15000). The first write is made at once. */
  intervalMs?: number;
  /** Write once more when stopped and when the process gets one of `signals` or reaches `beforeExit` (default true). */
  finalWrite?: boolean;
  /** Signals that trigger the final write (default `['SIGTERM', 'SIGINT']`; `[]`: none). */
  signals?: NodeJS.Signals[];
  /** Called when a write failed (default: one process warning per failure streak). */
  onError?: (error: unknown) => void;
}

/** A running schedule of textfile writes: see {@link scheduleTextfile}. */
export class ScheduledTextfile {
  /** @internal use scheduleTextfile() */
  constructor(
    private readonly repeater: Repeater,
    private readonly finalDefault: boolean,
    readonly path: string,
  ) {}

  /** Write now (after the write in flight); resolves true on success. */
  writeNow(): Promise<boolean> {
    return this.repeater.runNow();
  }

  /** Stop writing; with `finalWrite` (default: the schedule's option) write once more first. Never rejects. */
  stop(options: { finalWrite?: boolean } = {}): Promise<void> {
    return this.repeater.stop(options.finalWrite ?? this.finalDefault);
  }
}

/**
 * Write the process's metrics to a `*.prom` file for node_exporter's textfile collector now and every
 * `intervalMs`, atomically, until stopped; a final write at stop and at process shutdown (the process still ends
 * as it would have).
 */
export function scheduleTextfile(options: ScheduledTextfileOptions): ScheduledTextfile {
  const where = 'meterline.scheduleTextfile';
  const path = checkTextfileOptions(where, options, ['intervalMs', 'finalWrite', 'signals', 'onError']);
  checkInterval(where, 'intervalMs', options.intervalMs, 10);
  validate.checkBoolean(where, 'finalWrite', options.finalWrite);
  checkSignals(where, options.signals);
  validate.checkFunction(where, 'onError', options.onError);
  const intervalMs = options.intervalMs ?? 15_000;
  const finalWrite = options.finalWrite ?? true;
  let warned = false;
  const warnOnce = (err: unknown): void => {
    if (warned) return;
    warned = true;
    process.emitWarning(`meterline: writing ${path} failed: ${messageOf(err)} (retrying)`, {
      code: 'METERLINE_TEXTFILE',
    });
  };
  /** What the last successful write held, volatile self-metrics left out. */
  let lastWritten: string | undefined;
  const repeater = new Repeater(
    async (onlyIfChanged) => {
      try {
        const text = await selectedText(options.runtime ?? getMeterline(), options);
        const stable = stableText(text);
        if (onlyIfChanged && stable === lastWritten) return true;
        await writeFileAtomically(path, text);
        lastWritten = stable;
        warned = false;
        return true;
      } catch (err) {
        callSafely(options.onError ?? warnOnce, err, 'textfile onError callback');
        return false;
      }
    },
    {
      intervalMs,
      retryMs: Math.min(1000, intervalMs),
      final: finalWrite,
      signals: options.signals ?? SHUTDOWN_SIGNALS,
      finalTimeoutMs: 5000,
    },
  );
  return new ScheduledTextfile(repeater, finalWrite, path);
}

/**
 * The block of `family` (HELP, TYPE and the samples whose labels include `label="value"`) in an existing file, or
 * '' when the file or the block is absent. Used to keep a job's last success time across a failed run.
 */
export async function previousFamilyBlock(
  path: string,
  family: string,
  label: string,
  value: string,
): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return '';
  }
  const wanted = `${label}="${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`;
  const samples = text
    .split('\n')
    .filter(
      (line) => line.startsWith(family + '{') && (line.includes('{' + wanted) || line.includes(',' + wanted)),
    );
  if (samples.length === 0) return '';
  const meta = text
    .split('\n')
    .filter((line) => line.startsWith(`# HELP ${family} `) || line.startsWith(`# TYPE ${family} `));
  return [...meta, ...samples].join('\n') + '\n';
}
