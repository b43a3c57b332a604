import { ConformanceError, type ConformanceApp } from '../scenarios.js';
import { expressConformanceApp, wait } from './express-app.js';

/** The conformance app on Express 5, which passes a rejected promise of a handler on as an error. */
export const expressApp: ConformanceApp = expressConformanceApp('express', async () => {
  await wait(1);
  throw new ConformanceError('async');
});
