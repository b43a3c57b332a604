import { ConformanceError, type ConformanceApp } from '../scenarios.js';
import { expressConformanceApp, wait } from './express-app.js';

/**
 * The conformance app on Express 4: the same app as apps/express.ts, with async errors passed to next(err)
 * (Express 4 does not catch rejected promises). The `express` it builds on is whatever the project installed: a
 * clean project with express@4 runs it (the workspace's own is Express 5).
 */
export const express4App: ConformanceApp = expressConformanceApp('express4', async (_req, _res, next) => {
  await wait(1);
  next(new ConformanceError('async'));
});
