// Which tick-object state fresh server processes land in: for each of N processes of a variant, under load, the
// share of perf samples in V8's runtime path for literals (effect 1 of README.md) and the mark-compacts per 10k
// requests (effect 2), from the --trace-gc lines between the MARK lines:
//   node states.mjs fastify meterline 6 [--import,./garbage.mjs] | awk '/^MARK start/{m=0;on=1;next} /^MARK end/{on=0;n=$3} on&&/Mark-Compact/{m++} /#/{print $0", mark-compacts/10k " m*1e4/n}'
import { execFileSync, spawn } from 'node:child_process';
import { startLoader, startServer } from '../../src/processes.mjs';

const [framework = 'fastify', variant = 'meterline', count = '4', extra = ''] = process.argv.slice(2);
// Optional node options for every process, comma-separated (e.g. --import,./garbage.mjs to see effect 1 show).
const extraOptions = extra ? extra.split(',').map((o) => (o.startsWith('./') ? new URL(o, import.meta.url).pathname : o)) : [];
const loader = await startLoader(0);
for (let i = 0; i < Number(count); i++) {
  const s = await startServer(framework, variant, { nodeOptions: ['--perf-basic-prof', '--trace-gc', ...extraOptions] });
  await loader.run(s.port, 2, 25);
  console.log('MARK start');
  const rec = spawn('perf', ['record', '-p', String(s.child.pid), '-F', '2000', '-o', '/tmp/states.data', '--', 'sleep', '2'], { stdio: 'ignore' });
  const closed = new Promise((r) => rec.on('close', r));
  const r = await loader.run(s.port, 3, 25);
  await closed;
  console.log(`MARK end ${r.ok2xx}`);
  const out = execFileSync('perf', ['report', '-i', '/tmp/states.data', '--no-children', '--sort', 'sym', '--stdio', '-g', 'none'], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  const share = (re) => out.split('\n').filter((l) => re.test(l)).reduce((a, l) => a + parseFloat(l), 0);
  console.log(`${variant} #${i + 1}: runtime literal path ${share(/DefineKeyedOwnPropertyInLiteral|MigrateToMap|TransitionToDataProperty/).toFixed(2)} % of samples`);
  await s.stop();
}
loader.stop();
