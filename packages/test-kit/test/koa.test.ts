import { conformance } from './scenarios.js';
import { hostile, load } from './hostile.js';
import { koaApp } from './apps/koa.js';

conformance(koaApp);
hostile(koaApp);
load(koaApp);
