#!/usr/bin/env node
// Pack the published packages, install the tarballs into an empty project and check that the one line works
// from both `import` and `require`, scraping a real /metrics. Run by `npm test` after the build.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'meterline-pack-'));
const packages = ['core', 'jobs', 'cli', 'express', 'fastify', 'koa'].filter((p) => existsSync(join(root, 'packages', p, 'dist')));
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

try {
  for (const p of packages) npm(['pack', '--pack-destination', work], join(root, 'packages', p));
  const tarballs = readdirSync(work).filter((f) => f.endsWith('.tgz')).map((f) => join(work, f));
  const project = join(work, 'project');
  npm(['init', '-y'], (execFileSync('mkdir', ['-p', project]), project));
  // no OpenTelemetry package named: they are peers of @meterline/core, npm picks the line this Node supports
  npm(
    ['install', '--no-audit', '--no-fund', ...tarballs, 'express@5', 'fastify@5', 'koa@3', '@koa/router@15'],
    project,
  );

  const check = `
    async function check(listen) {
      const { port, close } = await listen();
      const base = 'http://127.0.0.1:' + port;
      await (await fetch(base + '/items/42')).text();
      const text = await (await fetch(base + '/metrics')).text();
      await close();
      const line = text.split('\\n').find((l) => l.startsWith('http_server_request_duration_seconds_count{') && l.includes('http_route="/items/:id"'));
      if (!line || !line.endsWith(' 1')) { console.error(text); throw new Error('no count for /items/:id'); }
    }`;
  const apps = {
    express: (imp) => `${imp('express', 'express')}${imp('{ metrics }', '@meterline/express')}${check}
      const app = express(); app.use(metrics()); app.get('/items/:id', (req, res) => res.send('ok'));
      check(() => new Promise((r) => { const s = app.listen(0, '127.0.0.1', () => r({ port: s.address().port, close: () => new Promise((d) => { s.closeAllConnections(); s.close(d); }) })); }))
        .then(() => console.log('ok'), (e) => { console.error(e); process.exit(1); });`,
    fastify: (imp) => `${imp('Fastify', 'fastify')}${imp('{ metrics }', '@meterline/fastify')}${check}
      (async () => { const app = Fastify(); await app.register(metrics); app.get('/items/:id', async () => 'ok');
      await app.listen({ port: 0, host: '127.0.0.1' });
      await check(async () => ({ port: app.server.address().port, close: () => app.close() })); console.log('ok'); })()
        .catch((e) => { console.error(e); process.exit(1); });`,
    koa: (imp) => `${imp('Koa', 'koa')}${imp('Router', '@koa/router')}${imp('{ metrics }', '@meterline/koa')}${check}
      const app = new Koa(); app.use(metrics()); const router = new Router(); router.get('/items/:id', (ctx) => { ctx.body = 'ok'; });
      app.use(router.routes());
      check(() => new Promise((r) => { const s = app.listen(0, '127.0.0.1', () => r({ port: s.address().port, close: () => new Promise((d) => { s.closeAllConnections(); s.close(d); }) })); }))
        .then(() => console.log('ok'), (e) => { console.error(e); process.exit(1); });`,
  };
  // not a framework: a batch job recorded by @meterline/jobs and served by core's metrics server
  apps.jobs = (imp) => `${imp('{ startMetricsServer }', '@meterline/core')}${imp('{ runJob }', '@meterline/jobs')}
      (async () => { const server = await startMetricsServer({ port: 0 });
      await runJob('pack-check', (job) => job.itemsProcessed(3));
      const text = await (await fetch(server.url)).text(); await server.close();
      const line = text.split('\\n').find((l) => l.startsWith('batch_job_items_processed_total{') && l.includes('job="pack-check"'));
      if (!line || !line.endsWith(' 3')) { console.error(text); throw new Error('no items for the job'); }
      console.log('ok'); })().catch((e) => { console.error(e); process.exit(1); });`;
  // the CLI's bin from its tarball: `meterline top --once` over a plain Node server with known traffic
  apps.cli = (imp) => `${imp('{ createServer }', 'node:http')}${imp('{ execFile }', 'node:child_process')}${imp('{ setRoute, withMetrics }', '@meterline/core')}
      const server = createServer(withMetrics((req, res) => { setRoute(req, '/items/:id'); res.end('ok'); }));
      server.listen(0, '127.0.0.1', () => {
        const base = 'http://127.0.0.1:' + server.address().port;
        const traffic = setInterval(() => fetch(base + '/items/1').then((r) => r.text()).catch(() => undefined), 20);
        execFile('node_modules/.bin/meterline', ['top', '--once', '-i', '1', '--no-color', base], (err, stdout) => {
          clearInterval(traffic);
          server.closeAllConnections(); server.close();
          if (err || !/GET\\s+\\/items\\/:id/.test(stdout)) { console.error(err, stdout); process.exit(1); }
          console.log('ok');
        });
      });`;
  const esmImport = (name, from) => `import ${name} from '${from}';\n`;
  const cjsImport = (name, from) =>
    name.startsWith('{') ? `const ${name} = require('${from}');\n` : `const ${name} = require('${from}').default ?? require('${from}');\n`;
  let failed = 0;
  for (const fw of Object.keys(apps)) {
    if (!packages.includes(fw)) {
      console.error(`pack-check: @meterline/${fw} is not built`);
      failed++;
      continue;
    }
    for (const [kind, imp, file] of [
      ['import', esmImport, `${fw}.mjs`],
      ['require', cjsImport, `${fw}.cjs`],
    ]) {
      writeFileSync(join(project, file), apps[fw](imp));
      const r = spawnSync(process.execPath, [file], { cwd: project, encoding: 'utf8', timeout: 30_000 });
      const ok = r.status === 0 && r.stdout.trim() === 'ok';
      console.log(`pack-check: @meterline/${fw} via ${kind}: ${ok ? 'ok' : 'FAILED'}`);
      if (!ok) {
        failed++;
        console.error(r.stdout, r.stderr);
      }
    }
  }
  console.log(`pack-check: ${failed === 0 ? 'all tarballs work' : `${failed} failed`}`);
  process.exitCode = failed === 0 ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
