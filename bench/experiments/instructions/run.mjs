/**
 * Instructions per request, counted by Valgrind (callgrind): the work each variant does, without the host's speed
 * changes. `npm run bench:instructions` (needs `valgrind`: `apt-get install valgrind`; ~2 min per framework).
 *
 *   flags: --only express[,koa] --variants bare,meterline[,alternative] --window N (requests per measured window)
 *          --max-windows N --connections N
 *
 * Each variant runs in its own server process under `valgrind --tool=callgrind --separate-threads=yes` (all of a
 * framework's variants at once: counting instructions does not depend on the CPU being shared). Autocannon sends
 * fixed numbers of requests; before each window the counters are zeroed (`callgrind_control -z`), after it they are
 * dumped (`-d`). Windows repeat until two in a row agree within 1 % on the main thread (V8 still compiling changes
 * the count; under Valgrind that takes thousands of requests), and the last one is reported: instructions on the
 * event-loop thread per request, and those of all threads (V8's compiler and GC helpers too). Variants as in
 * src/variants.mjs (bare is the truly bare app).
 *
 * Read it with care: the count is exact for one process, but two processes of the same app settle at counts up to
 * ~20 % apart (V8 optimises differently depending on what ran first: the same lottery the throughput benchmark
 * averages over rounds), so compare several runs. What it does not see: the kernel (system calls: the same in every
 * variant, one `read` and one `writev` per request, checked with `strace -c`), cache misses, branch mispredictions.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { list, positive, variantList } from '../../src/cli.mjs';
import { ResultTable } from '../../src/report.mjs';
import { FRAMEWORKS, variantLabel, VARIANTS } from '../../src/variants.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    variants: { type: 'string', default: 'bare,meterline,alternative' },
    window: { type: 'string', default: '2000' },
    'max-windows': { type: 'string', default: '8' },
    connections: { type: 'string', default: '10' },
  },
});

const windowSize = positive('window', flags.window, { integer: true });
const maxWindows = positive('max-windows', flags['max-windows'], { integer: true });
const connections = positive('connections', flags.connections, { integer: true });
const frameworks = flags.only === undefined ? FRAMEWORKS : list('only', flags.only, FRAMEWORKS);
const variants = variantList(flags.variants, VARIANTS);
try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('valgrind is not installed: apt-get install valgrind (Debian), then run this again');
  process.exit(2);
}

function sendRequests(port, amount) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `http://127.0.0.1:${port}/users/42`, connections, amount, timeout: 60 },
      (err, result) => {
        if (err) reject(err);
        else if (result['2xx'] !== amount) {
          reject(
            new Error(`${amount} requests sent, ${result['2xx']} answered 2xx (${result.errors} errors)`),
          );
        } else resolve();
      },
    );
  });
}

function control(pid, flag) {
  execFileSync('callgrind_control', [flag, String(pid)], { stdio: 'ignore' });
}

/** Instructions of the dump `part`: the main thread's and all threads'. */
function readDump(dir, part) {
  let main = 0;
  let all = 0;
  for (const file of readdirSync(dir)) {
    const m = /^cg\.out\.(\d+)-(\d+)$/.exec(file);
    if (m === null || Number(m[1]) !== part) continue;
    const summary = /^summary: (\d+)$/m.exec(readFileSync(join(dir, file), 'utf8'));
    const n = summary === null ? 0 : Number(summary[1]);
    all += n;
    if (Number(m[2]) === 1) main = n;
  }
  return { main, all };
}

async function measure(framework, variant) {
  const dir = mkdtempSync(join(tmpdir(), `meterline-instr-${framework}-${variant}-`));
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--smc-check=all-non-file',
      '--separate-threads=yes',
      `--callgrind-out-file=${join(dir, 'cg.out')}`,
      process.execPath,
      join(here, 'server.mjs'),
      framework,
      variant,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
  try {
    const port = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('the server did not start within 180 s')), 180_000);
      child.stdout.on('data', (c) => {
        out += c;
        const m = /PORT (\d+)/.exec(out);
        if (m !== null) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`the server exited (${code}): ${stderr}`)));
    });
    const windows = [];
    await sendRequests(port, windowSize);
    for (let w = 1; w <= maxWindows; w++) {
      control(child.pid, '-z');
      await sendRequests(port, windowSize);
      control(child.pid, '-d');
      const { main, all } = readDump(dir, w);
      windows.push({ main: main / windowSize, all: all / windowSize });
      const last = windows[windows.length - 1];
      const prev = windows.length >= 2 ? windows[windows.length - 2] : undefined;
      process.stdout.write(
        `  ${framework}:${variant} window ${w}: ${Math.round(last.main)} instructions/request (main thread)\n`,
      );
      if (prev !== undefined && Math.abs(last.main - prev.main) <= 0.01 * prev.main) break;
    }
    const last = windows[windows.length - 1];
    const prev = windows.length >= 2 ? windows[windows.length - 2] : undefined;
    const settled = prev !== undefined && Math.abs(last.main - prev.main) <= 0.01 * prev.main;
    return { ...last, windows: windows.length, settled };
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const started = Date.now();
console.log(
  `instructions per request under callgrind: ${frameworks.join(', ')}; ${variants.join(', ')}; windows of ` +
    `${windowSize} requests (${connections} connections) until two agree within 1 %`,
);
const table = new ResultTable([
  'framework',
  'variant',
  'instructions/req (main thread)',
  'vs bare',
  'added/req',
  'all threads/req',
  'windows',
]);
let ok = true;
for (const framework of frameworks) {
  const results = await Promise.allSettled(variants.map((v) => measure(framework, v)));
  const bare = results[variants.indexOf('bare')];
  const base = bare?.status === 'fulfilled' ? bare.value.main : NaN;
  variants.forEach((variant, i) => {
    const r = results[i];
    if (r.status === 'rejected') {
      ok = false;
      console.log(`PROBLEM ${framework}:${variant}: ${r.reason.message}`);
      return;
    }
    const v = r.value;
    if (!v.settled) console.log(`NOTE ${framework}:${variant}: the last two windows differ by more than 1 %`);
    const row = [
      framework,
      variantLabel(framework, variant),
      Math.round(v.main),
      variant === 'bare' ? '1' : (v.main / base).toFixed(3),
      variant === 'bare' ? '-' : Math.round(v.main - base),
      Math.round(v.all),
      `${v.windows}${v.settled ? '' : ' (not settled)'}`,
    ];
    table.push(row);
  });
}
table.print();
console.log(`\ndone in ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (!ok) process.exit(1);
