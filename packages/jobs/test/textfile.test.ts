import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configure, Meterline } from '@meterline/core';
import { BATCH_JOB_METRICS, runJob, scheduleTextfile, writeTextfile } from '../src/index.js';
import { writeFileAtomically } from '../src/textfile.js';
import { Parsed } from './helpers/pushgateway.js';

let dir: string;

beforeAll(() => {
  configure({ serviceName: 'textfile-test' });
  dir = mkdtempSync(join(tmpdir(), 'meterline-textfile-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh runtime: stands for one process. */
const freshProcess = () => new Meterline({ registerGlobal: false, serviceName: 'textfile-test' });

const promtool = (text: string) =>
  spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });

describe('writeTextfile', () => {
  it('writes a promtool-clean *.prom file with mode 0644 whatever the umask, leaving no temp file', async () => {
    const runtime = freshProcess();
    runtime.meterProvider.getMeter('t').createCounter('files.seen', { unit: '{file}' }).add(7);
    const path = join(dir, 'app.prom');
    const umask = process.umask(0o077);
    try {
      await writeTextfile({ path, runtime });
    } finally {
      process.umask(umask);
    }
    expect(statSync(path).mode & 0o777).toBe(0o644);
    const text = readFileSync(path, 'utf8');
    expect(new Parsed(text).value('files_seen_total')).toBe(7);
    const check = promtool(text);
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await runtime.shutdown();
  });

  it('fails fast on a name node_exporter would not read, and on unknown options', async () => {
    await expect(writeTextfile({ path: join(dir, 'app.txt') })).rejects.toThrow(/path.*\.prom/);
    await expect(writeTextfile({ path: join(dir, '.prom') })).rejects.toThrow(/path/);
    await expect(writeTextfile({ path: join(dir, 'a.prom'), mode: 0o600 } as never)).rejects.toThrow(
      /unknown option "mode"/,
    );
    expect(() => scheduleTextfile({ path: join(dir, 'a.prom'), intervalMs: 1 })).toThrow(/intervalMs/);
    await expect(runJob('j', () => 1, { textfile: 'job.json' })).rejects.toThrow(/textfile.*\.prom/);
  });
});

/** Version `n` of a file the reader can check whole: `count` samples, all with value n, then an end marker. */
function version(n: number): string {
  const count = 1000 + (n % 5) * 1000;
  let text = '# TYPE torn_check gauge\n';
  for (let i = 0; i < count; i++) text += `torn_check{i="${i}"} ${n}\n`;
  return text + `# end ${n} ${count}\n`;
}

const READER = fileURLToPath(new URL('./fixtures/textfile-reader.mjs', import.meta.url));

/** Rewrite `path` with `write` for `ms` while a reader process checks every read; the reader's findings. */
async function readWhileWriting(
  path: string,
  ms: number,
  write: (path: string, text: string) => Promise<void>,
): Promise<{
  reads: number;
  torn: number;
  missing: number;
  versions: number;
  writes: number;
  example: string;
}> {
  await writeFileAtomically(path, version(0));
  const reader = spawn(process.execPath, [READER, path, String(ms)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  reader.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const done = new Promise<void>((resolve) => reader.once('exit', () => resolve()));
  let finished = false;
  void done.then(() => (finished = true));
  let writes = 0;
  while (!finished) await write(path, version(++writes));
  await done;
  return { ...JSON.parse(out), writes };
}

describe('atomic replacement', () => {
  it('a reader looping over the file while it is rewritten never sees a partial file', async () => {
    const r = await readWhileWriting(join(dir, 'atomic.prom'), 1500, writeFileAtomically);
    expect(r.torn, r.example).toBe(0);
    expect(r.missing).toBe(0);
    expect(r.writes).toBeGreaterThan(20);
    expect(r.reads).toBeGreaterThan(100);
    expect(r.versions).toBeGreaterThan(5); // the reads did overlap many writes
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('the same reader does catch an in-place rewrite (the check can fail)', async () => {
    const r = await readWhileWriting(join(dir, 'in-place.prom'), 1500, (path, text) => writeFile(path, text));
    expect(r.torn).toBeGreaterThan(0);
  });
});

describe('runJob textfile', () => {
  const path = () => join(dir, 'nightly.prom');

  it('writes the run at its end; a failed run keeps the last success of an earlier process', async () => {
    // run 1 (one process) succeeds
    const before = Date.now() / 1000;
    await runJob('nightly', (job) => job.itemsProcessed(12), { textfile: path(), runtime: freshProcess() });
    let s = new Parsed(readFileSync(path(), 'utf8'));
    const firstSuccess = s.value(BATCH_JOB_METRICS.lastSuccess, { job: 'nightly' });
    expect(firstSuccess).toBeGreaterThanOrEqual(before);
    expect(s.value(BATCH_JOB_METRICS.itemsProcessed, { job: 'nightly' })).toBe(12);
    expect(statSync(path()).mode & 0o777).toBe(0o644);

    // run 2 (a new process) fails: outcome and completion move, the last success stays
    const boom = new Error('source down');
    const thrown = await runJob(
      'nightly',
      () => {
        throw boom;
      },
      { textfile: path(), runtime: freshProcess() },
    ).catch((e: unknown) => e);
    expect(thrown).toBe(boom);
    const text = readFileSync(path(), 'utf8');
    s = new Parsed(text);
    expect(s.value(BATCH_JOB_METRICS.lastSuccess, { job: 'nightly' })).toBe(firstSuccess);
    expect(s.value(BATCH_JOB_METRICS.lastOutcome, { job: 'nightly', outcome: 'failure' })).toBe(1);
    expect(s.value(BATCH_JOB_METRICS.lastCompletion, { job: 'nightly' })).toBeGreaterThanOrEqual(
      firstSuccess,
    );
    expect(text.match(/# TYPE batch_job_last_success_timestamp_seconds gauge/g)).toHaveLength(1);
    const check = promtool(text);
    expect(check.stdout + check.stderr).toBe('');
  });

  it('scheduleTextfile writes at once, on its interval and a last time on stop', async () => {
    const runtime = freshProcess();
    const counter = runtime.meterProvider.getMeter('t').createCounter('ticks', { unit: '{tick}' });
    const file = join(dir, 'scheduled.prom');
    const scheduled = scheduleTextfile({ path: file, intervalMs: 50, runtime, signals: [] });
    const read = () => {
      try {
        return new Parsed(readFileSync(file, 'utf8')).find('ticks_total')[0]?.value;
      } catch {
        return undefined;
      }
    };
    counter.add(1);
    for (let i = 0; i < 100 && read() !== 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(read()).toBe(1);
    counter.add(4);
    await scheduled.stop();
    expect(read()).toBe(5);
    counter.add(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(read()).toBe(5); // stopped: no more writes
    await runtime.shutdown();
  });
});
