// perf call graph of one server variant under load: who calls a given symbol (default: V8's write barrier).
//   node callers.mjs koa meterline [symbol]
import { execFileSync, spawn } from 'node:child_process';
import { startLoader, startServer } from '../../src/processes.mjs';

const [framework = 'koa', variant = 'meterline', symbol = 'Builtins_RecordWriteSaveFP'] =
  process.argv.slice(2);
const loader = await startLoader(0);
const s = await startServer(framework, variant, { nodeOptions: ['--perf-basic-prof'] });
await loader.run(s.port, 3, 25);
const rec = spawn(
  'perf',
  ['record', '-g', '-p', String(s.child.pid), '-F', '4000', '-o', '/tmp/prof/cg.data', '--', 'sleep', '3'],
  { stdio: 'ignore' },
);
const closed = new Promise((r) => rec.on('close', r));
await loader.run(s.port, 4, 25);
await closed;
const out = execFileSync(
  'perf',
  ['report', '-i', '/tmp/prof/cg.data', '--no-children', '--symbols', symbol, '-G', '--stdio'],
  { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] },
);
console.log(
  out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(0, 120)
    .join('\n'),
);
loader.stop();
await s.stop();
