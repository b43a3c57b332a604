import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import fp from 'fastify-plugin';
import { AdapterCore, reportOnce, stateOf, type CommonOptions, type RouteKey } from '@meterline/core/adapter';
import { kTemplate, stampTemplatesOnFastify4 } from './route-template.js';

/** Options of the Fastify plugin: everything core accepts (see `@meterline/core`). */
export type FastifyMetricsOptions = CommonOptions;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: do not measure this route (no series, not counted in flight). */
    metrics?: boolean;
  }
}

/** Keys Fastify's `register()` itself consumes; they reach the plugin's options too and are not ours. */
const REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers']);
/** What a route's config caches: its interned route key, or one of these markers. */
const NO_ROUTE = 0; // the not-found handler: measured, no http.route
const SKIP = 1; // opted out (config.metrics === false), excluded, or the metrics route: not measured
type Cached = RouteKey | typeof NO_ROUTE | typeof SKIP;

/**
 * Fastify keeps a request's route context (with the route's `config`) under a private symbol; reading it
 * directly avoids the `request.routeOptions` getter, which builds an object per call. Found on first sight.
 */
let kRouteContext: symbol | null | undefined;
function routeConfig(request: FastifyRequest): Record<PropertyKey, unknown> | undefined {
  if (kRouteContext === undefined) {
    kRouteContext = Object.getOwnPropertySymbols(request).find((s) => s.description === 'fastify.context') ?? null;
  }
  if (kRouteContext !== null) {
    const context = (request as unknown as Record<symbol, { config?: Record<PropertyKey, unknown> } | undefined>)[
      kRouteContext
    ];
    if (context !== undefined) return context.config;
  }
  return request.routeOptions.config as unknown as Record<PropertyKey, unknown> | undefined;
}

/** First request of a route: decide once what to do with it, cached on the route's config object. */
function resolveRoute(adapter: AdapterCore, config: Record<PropertyKey, unknown> | undefined): Cached {
  if (config === undefined || config.metrics === false) return SKIP;
  const url = config[kTemplate] ?? config.url;
  if (typeof url !== 'string') return NO_ROUTE;
  return adapter.routeKey(url) ?? SKIP;
}

const plugin: FastifyPluginCallback<FastifyMetricsOptions> = function meterlineFastify(
  fastify: FastifyInstance,
  options: FastifyMetricsOptions,
  done: (err?: Error) => void,
) {
  const own: Record<string, unknown> = {};
  for (const key of Object.keys(options ?? {})) {
    if (!REGISTER_KEYS.has(key)) own[key] = (options as Record<string, unknown>)[key];
  }
  let adapter: AdapterCore;
  try {
    adapter = new AdapterCore({ where: '@meterline/fastify' }, own);
  } catch (err) {
    done(err as Error); // bad options: register() / ready() rejects with the message naming the option
    return;
  }
  // one symbol per plugin instance: two apps (or two registrations) never share a cached decision
  const kCached = Symbol('meterline.fastify.route');
  stampTemplatesOnFastify4(fastify);

  fastify.addHook('onRequest', function meterlineOnRequest(
    request: FastifyRequest,
    reply: FastifyReply,
    next: HookHandlerDoneFunction,
  ) {
    try {
      const config = routeConfig(request);
      let cached = config === undefined ? SKIP : (config[kCached] as Cached | undefined);
      if (cached === undefined) {
        cached = resolveRoute(adapter, config);
        (config as Record<PropertyKey, unknown>)[kCached] = cached;
      }
      if (cached !== SKIP) {
        const res = reply.raw;
        // fastify.inject(): no network, a fake socket; counted like real requests. light-my-request 5 (Fastify 4)
        // has no `isLightMyRequest` flag; its private `_lightMyRequest` is set by versions 5 and 6 alike
        if ((res as { _lightMyRequest?: unknown })._lightMyRequest !== undefined) adapter.prepareInjected(request.raw, res);
        const state = adapter.start(request.raw, res);
        if (state !== undefined && cached !== NO_ROUTE && state.owner === adapter) state.route = cached;
      }
    } catch (err) {
      reportOnce('fastify onRequest', err);
    }
    next();
  });

  fastify.addHook('onError', function meterlineOnError(
    _request: FastifyRequest,
    reply: FastifyReply,
    error: Error,
    next: () => void,
  ) {
    const state = stateOf(reply.raw);
    if (state !== undefined) adapter.setError(state, error);
    next();
  });

  // the metrics path, and the live page with its data when the `page` option is set
  for (const url of adapter.servedPaths) {
    fastify.route({
      method: 'GET',
      url,
      config: { metrics: false },
      logLevel: 'warn',
      handler(request, reply) {
        reply.hijack();
        adapter.serveMetrics(request.raw, reply.raw);
      },
    });
  }
  done();
};


/**
 * Per-route RED metrics for Fastify 4 and 5 and a Prometheus `/metrics` endpoint, with one line:
 * `await app.register(metrics)`. Register it before your routes and plugins.
 */
export const metrics = fp(plugin, { name: '@meterline/fastify', fastify: '4.x || 5.x' });

export default metrics;
