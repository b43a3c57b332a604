// GC events of server variants under the same load (node --trace-gc, printed to this process's stdout between
// markers); pipe through the awk of README.md to count them:  node gc-count.mjs koa bare meterline
import { startLoader, startServer } from '../../src/processes.mjs';

const [framework = 'koa', ...variants] = process.argv.slice(2);
const loader = await startLoader(0);
for (const variant of variants) {
  const s = await startServer(framework, variant, {
    nodeOptions: ['--trace-gc', ...(process.env.GC_OPTS ?? '').split(' ').filter(Boolean)],
  });
  await loader.run(s.port, 3, 25);
  console.log(`MARK start ${variant}`);
  const r = await loader.run(s.port, 4, 25);
  console.log(`MARK end ${variant} ${r.ok2xx}`);
  await s.stop();
}
loader.stop();
