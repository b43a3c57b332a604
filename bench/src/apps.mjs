// The benchmark app, built the same way for every framework and variant: GET /users/:id -> small JSON. Fastify apps
// register their routes in a plugin, as Fastify apps are structured. The variants (variants.mjs) differ only in
// the metrics line (none, meterline's, the alternative's, default or tuned) and, for the diagnosis variants, in what
// the process does before or after building the app (see `startApp` below).
import { keepPrototypes, prepareAblation } from './ablations.mjs';
import { appOf, FRAMEWORKS, VARIANTS } from './variants.mjs';

function user(id) {
  return { id, name: 'Ada Lovelace', role: 'admin' };
}

// Each builder takes `kind`, the metrics line the app gets: 'bare' (none), 'meterline' or 'alternative', and
// `tuned`: the alternative in its cheapest configuration that still gives per-route RED metrics.
async function expressServer(kind, tuned) {
  const { default: express } = await import('express');
  const app = express();
  if (kind === 'meterline') {
    const { metrics } = await import('@meterline/express');
    app.use(metrics());
  } else if (kind === 'alternative') {
    const { default: promBundle } = await import('express-prom-bundle');
    const options = { includeMethod: true, includePath: true, includeStatusCode: true };
    // its README's "return express route definition": the route template instead of guessing ids in the URL
    if (tuned) options.normalizePath = (req) => req.route?.path ?? 'NULL';
    app.use(promBundle(options));
  }
  app.get('/users/:id', (req, res) => {
    res.json(user(req.params.id));
  });
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function fastifyServer(kind, tuned) {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  const route = (f) => f.get('/users/:id', async (request) => user(request.params.id));
  if (kind === 'meterline') {
    const { metrics } = await import('@meterline/fastify');
    await app.register(metrics);
  } else if (kind === 'alternative') {
    const mod = await import('fastify-metrics');
    // tuned: route histograms only (no summaries, whose quantiles cost per observation; no process metrics)
    const options = tuned
      ? { endpoint: '/metrics', defaultMetrics: { enabled: false }, routeMetrics: { enableSummaries: false } }
      : { endpoint: '/metrics' };
    await app.register(mod.default?.default ?? mod.default, options);
  }
  await app.register(async function routes(f) {
    route(f);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

/**
 * What a careful user writes by hand with prom-client: a duration histogram, a request counter, in-flight. Tuned:
 * the labelled children kept per (method, route, status) instead of labels looked up per request.
 */
async function promClientKoaMiddleware(tuned) {
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
  return promClientMiddleware(
    registry,
    inFlight,
    tuned ? cachedChildren(duration, requests) : perRequestLabels(duration, requests),
  );
}

/** Default: a labels object per request, looked up by prom-client on every observation. */
function perRequestLabels(duration, requests) {
  return (method, route, status, seconds) => {
    const labels = { method, route, status_code: status };
    duration.observe(labels, seconds);
    requests.inc(labels);
  };
}

/** Tuned: the labelled children kept per (method, route, status). */
function cachedChildren(duration, requests) {
  const children = new Map();
  return (method, route, status, seconds) => {
    const key = `${method} ${route} ${status}`;
    let pair = children.get(key);
    if (pair === undefined) {
      const labels = [method, route, String(status)];
      children.set(
        key,
        (pair = { duration: duration.labels(...labels), requests: requests.labels(...labels) }),
      );
    }
    pair.duration.observe(seconds);
    pair.requests.inc();
  };
}

function promClientMiddleware(registry, inFlight, record) {
  return async function promClientMetrics(ctx, next) {
    if (ctx.path === '/metrics') {
      ctx.type = registry.contentType;
      ctx.body = await registry.metrics();
      return;
    }
    inFlight.inc();
    const started = performance.now();
    try {
      await next();
    } finally {
      record(ctx.method, ctx._matchedRoute ?? '', ctx.status, (performance.now() - started) / 1000);
      inFlight.dec();
    }
  };
}

async function koaServer(kind, tuned) {
  const { default: Koa } = await import('koa');
  const routerModule = await import('@koa/router');
  const Router = routerModule.Router ?? routerModule.default;
  const app = new Koa();
  if (kind === 'meterline') {
    const { metrics } = await import('@meterline/koa');
    app.use(metrics());
  } else if (kind === 'alternative') {
    app.use(await promClientKoaMiddleware(tuned));
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

/** The modules any variant of the framework's benchmark loads: what a preloaded process imports. */
const MODULES = {
  express: ['@meterline/express', 'express-prom-bundle'],
  fastify: ['@meterline/fastify', 'fastify-metrics'],
  koa: ['@meterline/koa', 'prom-client'],
};

/**
 * What every variant did before its app until 2026-12, kept for the `-preloaded` diagnosis variants: import both
 * metrics modules, then settle `process.nextTick`. It made the processes of a framework alike, and so hid from the
 * comparison whatever importing meterline does to a user's process; the headline variants no longer do it.
 */
async function preload(framework) {
  for (const name of MODULES[framework]) await import(name);
  await settleNextTick();
}

function tick() {}
/**
 * Run `process.nextTick` a few thousand times, so that V8 optimises it while its feedback is clean. Without this,
 * whether Node's own tick-object literal (`{ [async_id_symbol]: ..., callback, args }`) runs in optimised code or
 * through V8's generic runtime path (Runtime_DefineKeyedOwnPropertyInLiteral plus a map migration on every call)
 * depends on what the process happened to run at startup: in Fastify, which schedules several ticks per request,
 * that lottery moved a process's cost by several µs per request with no metrics code involved. 50 or 500 calls are
 * not enough. See bench/results-archive.md ("the nextTick lottery") and experiments/effect.
 */
export async function settleNextTick() {
  for (let i = 0; i < 3000; i++) process.nextTick(tick, i);
  await new Promise((resolve) => setImmediate(resolve));
}

const builders = { express: expressServer, fastify: fastifyServer, koa: koaServer };

/** Build and start one app on 127.0.0.1 (any free port); resolves to its node:http server. */
export async function startApp(framework, variant) {
  if (!FRAMEWORKS.includes(framework) || !VARIANTS.includes(variant)) {
    throw new Error(`unknown app ${framework} ${variant}`);
  }
  const { app, preloaded, setup } = appOf(variant);
  if (preloaded) await preload(framework);
  const adapter = MODULES[framework][0];
  if (setup === 'imported') await import(adapter);
  else if (setup === 'patched' || setup === 'runtime') {
    // the runtime and every patch metrics() applies, and no middleware that would measure a request
    const restore = setup === 'runtime' ? await keepPrototypes(framework) : undefined;
    if (framework === 'fastify') (await import('@meterline/core')).getMeterline();
    else (await import(adapter)).metrics();
    // `runtime`: every patch undone, the SDK and the store stay
    restore?.();
  }
  const ablate =
    app === 'meterline' && setup !== undefined ? await prepareAblation(setup, framework) : undefined;
  const server = await builders[framework](app, setup === 'tuned');
  if (ablate !== undefined) await ablate();
  return server;
}
