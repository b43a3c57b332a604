import type { FastifyInstance, RouteOptions } from 'fastify';

/** Where a route's config carries the template stamped at registration (Fastify 4 only, see below). */
export const kTemplate = Symbol('meterline.fastify.template');

/**
 * Fastify 4 registers a prefixed plugin's `/` route twice (`/prefix` and `/prefix/`, `prefixTrailingSlash:
 * 'both'`) and gives the twin its own `config.url` (`/prefix/`), where Fastify 5 gives both the prefix. Fastify 4
 * runs `onRoute` for the first registration only and builds the twin's config from the same options, so a
 * template stamped there reaches both: one template, as on Fastify 5. Routes registered before the plugin keep
 * their `config.url`.
 */
export function stampTemplatesOnFastify4(fastify: FastifyInstance): void {
  if (!fastify.version.startsWith('4.')) return;
  fastify.addHook('onRoute', function meterlineOnRoute(routeOptions: RouteOptions) {
    // a new object: a config shared by several routes is never written to
    routeOptions.config = { ...routeOptions.config, [kTemplate]: routeOptions.url } as RouteOptions['config'];
  });
}
