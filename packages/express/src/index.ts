import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdapterCore, reportOnce, type CommonOptions } from '@meterline/core/adapter';
import { kAdapter } from './measured-router.js';
import { isExpress4, patchRouter4 } from './router4.js';
import { isExpress5, patchRouter5 } from './router5.js';

/** Options of the Express middleware: everything core accepts (see `@meterline/core`). */
export type ExpressMetricsOptions = CommonOptions;

/** Patch the router of the installed Express (4 or 5) once per process. */
function patchRouter(): void {
  if (isExpress5(express)) patchRouter5(express);
  else if (isExpress4(express)) patchRouter4(express);
  else
    reportOnce(
      'express router',
      new Error('unknown Express router: requests are measured without http.route'),
    );
}

/**
 * Per-route RED metrics for Express 4 and 5 and a Prometheus `/metrics` endpoint, with one line:
 * `app.use(metrics())`. Routes registered before or after it are measured alike.
 */
export function metrics(options: ExpressMetricsOptions = {}): RequestHandler {
  // Express swaps the prototypes of req/res per request: reserve their state while they still share their maps
  const adapter = new AdapterCore({ where: '@meterline/express metrics()', reserve: true }, options);
  patchRouter();
  // Only runs if the router patch did not take (e.g. a second copy of the router package): measure from here.
  const middleware = function meterlineMiddleware(req: Request, res: Response, next: NextFunction): void {
    try {
      if (adapter.isMetricsRequest(req.url)) {
        adapter.serveMetrics(req as IncomingMessage, res as ServerResponse);
        return;
      }
      adapter.start(req, res);
    } catch (err) {
      reportOnce('express middleware', err);
    }
    next();
  };
  (middleware as any)[kAdapter] = adapter;
  return middleware;
}

export default metrics;
