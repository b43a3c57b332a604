// The benchmark app, built the same way for every framework and variant: GET /users/:id -> small JSON.
// variant: 'bare' (no metrics), 'meterline' (one line, defaults), 'alternative' (the usual prom-client option).
//
// Every variant of a framework loads the same modules (meterline's adapter and the alternative) before it builds
// its app, Fastify apps register their routes in a plugin, as Fastify apps are structured, and every variant but
// `minimal` settles `process.nextTick` first (see settleNextTick below). Without that, what a process ran at startup
// decides whether Node's tick objects are built in optimised code or through V8's runtime, which in Fastify moved a
// process's cost by several µs per request with no metrics code at all (see bench/RESULTS.md, "the nextTick
// lottery"). Pass `minimal` as the variant for the old baseline (nothing preloaded, routes on the root instance, not
// settled).
function user(id) {
  return { id, name: 'Ada Lovelace', role: 'admin' };
}

async function expressServer(variant, options) {
  await prepare('express', variant, options);
  const { default: express } = await import('express');
  const app = express();
  if (variant === 'meterline') {
    const { metrics } = await import('@meterline/express');
    app.use(metrics());
  } else if (variant === 'alternative') {
    const { default: promBundle } = await import('express-prom-bundle');
    app.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true }));
  }
  app.get('/users/:id', (req, res) => {
    res.json(user(req.params.id));
  });
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function fastifyServer(variant, options) {
  await prepare('fastify', variant, options);
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  const route = (f) => f.get('/users/:id', async (request) => user(request.params.id));
  if (variant === 'meterline') {
    const { metrics } = await import('@meterline/fastify');
    await app.register(metrics);
  } else if (variant === 'alternative') {
    const mod = await import('fastify-metrics');
    await app.register(mod.default?.default ?? mod.default, { endpoint: '/metrics' });
  }
  if (variant === 'minimal') route(app);
  else
    await app.register(async function routes(f) {
      route(f);
    });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

/** What a careful user writes by hand with prom-client: a duration histogram, a request counter, in-flight. */
async function promClientKoaMiddleware() {
  const { Registry, Histogram, Counter, Gauge } = await import('prom-client');
  const registry = new Registry();
  const labelNames = ['method', 'route', 'status_code'];
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests.',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    registers: [registry],
  });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests.',
    labelNames,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'In-flight HTTP requests.',
    registers: [registry],
  });
  return async function promClientMetrics(ctx, next) {
    if (ctx.path === '/metrics') {
      ctx.type = registry.contentType;
      ctx.body = await registry.metrics();
      return;
    }
    inFlight.inc();
    const end = duration.startTimer();
    try {
      await next();
    } finally {
      const labels = { method: ctx.method, route: ctx._matchedRoute ?? '', status_code: ctx.status };
      end(labels);
      requests.inc(labels);
      inFlight.dec();
    }
  };
}

async function koaServer(variant, options) {
  await prepare('koa', variant, options);
  const { default: Koa } = await import('koa');
  const routerModule = await import('@koa/router');
  const Router = routerModule.Router ?? routerModule.default;
  const app = new Koa();
  if (variant === 'meterline') {
    const { metrics } = await import('@meterline/koa');
    app.use(metrics());
  } else if (variant === 'alternative') {
    app.use(await promClientKoaMiddleware());
  }
  const router = new Router();
  router.get('/users/:id', (ctx) => {
    ctx.body = user(ctx.params.id);
  });
  app.use(router.routes());
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** The modules any variant of the framework's benchmark loads, loaded by every variant alike. */
const MODULES = {
  express: ['@meterline/express', 'express-prom-bundle'],
  fastify: ['@meterline/fastify', 'fastify-metrics'],
  koa: ['@meterline/koa', 'prom-client'],
};
async function prepare(framework, variant, options) {
  if (variant === 'minimal') return;
  for (const name of MODULES[framework]) await import(name);
  if (options.settle !== false) await settleNextTick();
}

function tick() {}
/**
 * Run `process.nextTick` a few thousand times, so that V8 optimises it while its feedback is clean, the same way in
 * every benchmark process. Without this, whether Node's own tick-object literal (`{ [async_id_symbol]: ..., callback,
 * args }`) runs in optimised code or through V8's generic runtime path (Runtime_DefineKeyedOwnPropertyInLiteral
 * plus a map migration on every call) depends on what the process happened to run at startup: in Fastify, which
 * schedules several ticks per request, that lottery moved a process's cost by several µs per request, with no
 * metrics code involved (bare Fastify lost it; the same app with meterline's core loaded first did not). `perf`
 * shows the runtime path in bare, meterline and any-hook Fastify processes, and in none of them after this warm-up;
 * 50 or 500 calls are not enough. See bench/RESULTS.md ("the nextTick lottery").
 */
export async function settleNextTick() {
  for (let i = 0; i < 3000; i++) process.nextTick(tick, i);
  await new Promise((resolve) => setImmediate(resolve));
}

export const FRAMEWORKS = ['express', 'fastify', 'koa'];
export const VARIANTS = ['bare', 'meterline', 'alternative', 'minimal', 'control'];
const builders = { express: expressServer, fastify: fastifyServer, koa: koaServer };

/**
 * Build and start one app on 127.0.0.1 (any free port); resolves to its node:http server. `settle: false` skips the
 * nextTick warm-up (the `--unsettled` flag of the runner).
 */
export function startApp(framework, variant, options = {}) {
  if (builders[framework] === undefined || !VARIANTS.includes(variant)) {
    throw new Error(`unknown app ${framework} ${variant}`);
  }
  // the A/A control is the bare app in a process of its own
  return builders[framework](variant === 'control' ? 'bare' : variant, options);
}
