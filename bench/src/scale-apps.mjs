// The scale benchmark's app per framework: `routes` parameterised routes GET /api/r<i>/items/:id, each answering a
// small JSON object; Express 5, Fastify 5 (routes in a plugin) and Koa 3 with @koa/router, as in apps.mjs. The
// variants differ only in meterline's one line, as in apps.mjs; `alternative` and the preloaded ones are not built.
import { appOf, FRAMEWORKS } from './variants.mjs';

/** The variants the scale benchmark can build. */
export const SCALE_VARIANTS = ['bare', 'control', 'meterline'];

/** meterline's default cap on distinct http.route values: beyond it the app raises the cap to its route count. */
const DEFAULT_MAX_ROUTES = 1000;

/**
 * Listen backlog: thousands of connections opened at once overflow Node's default of 511, and the dropped handshakes
 * wait seconds for retries (the kernel caps it at net.core.somaxconn).
 */
const BACKLOG = 4096;

/** The template of route `i`. */
export const routeTemplate = (i) => `/api/r${i}/items/:id`;

/** A concrete path of route `i`. */
export const routePath = (i, id) => `/api/r${i}/items/${id}`;

function item(route, id) {
  return { route, id, name: 'Ada Lovelace', role: 'admin' };
}

// Only past the default cap does meterline get an option: with 1,000 routes every variant is the one-line app
const meterlineOptions = (routes) => (routes > DEFAULT_MAX_ROUTES ? { maxRoutes: routes } : undefined);

async function expressServer(kind, routes) {
  const { default: express } = await import('express');
  const app = express();
  if (kind === 'meterline') {
    const { metrics } = await import('@meterline/express');
    app.use(metrics(meterlineOptions(routes)));
  }
  for (let i = 0; i < routes; i++) {
    app.get(routeTemplate(i), (req, res) => {
      res.json(item(i, req.params.id));
    });
  }
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', BACKLOG, () => resolve(server));
  });
}

async function fastifyServer(kind, routes) {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  if (kind === 'meterline') {
    const { metrics } = await import('@meterline/fastify');
    await app.register(metrics, meterlineOptions(routes) ?? {});
  }
  await app.register(async function routesPlugin(f) {
    for (let i = 0; i < routes; i++) {
      f.get(routeTemplate(i), async (request) => item(i, request.params.id));
    }
  });
  await app.listen({ port: 0, host: '127.0.0.1', backlog: BACKLOG });
  return app.server;
}

async function koaServer(kind, routes) {
  const { default: Koa } = await import('koa');
  const routerModule = await import('@koa/router');
  const Router = routerModule.Router ?? routerModule.default;
  const app = new Koa();
  if (kind === 'meterline') {
    const { metrics } = await import('@meterline/koa');
    app.use(metrics(meterlineOptions(routes)));
  }
  const router = new Router();
  for (let i = 0; i < routes; i++) {
    router.get(routeTemplate(i), (ctx) => {
      ctx.body = item(i, ctx.params.id);
    });
  }
  app.use(router.routes());
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', BACKLOG, () => resolve(server));
  });
}

const builders = { express: expressServer, fastify: fastifyServer, koa: koaServer };

/** Build and start the `routes`-route app on 127.0.0.1 (any free port); resolves to its node:http server. */
export async function startScaleApp(framework, variant, routes) {
  if (!FRAMEWORKS.includes(framework) || !SCALE_VARIANTS.includes(variant)) {
    throw new Error(`unknown scale app ${framework} ${variant}`);
  }
  if (!Number.isInteger(routes) || routes < 1) throw new Error(`bad route count ${routes}`);
  return builders[framework](appOf(variant).app, routes);
}
