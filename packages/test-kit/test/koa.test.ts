import { conformance } from './scenarios.js';
import { koaApp } from './apps/koa.js';

conformance(koaApp);
