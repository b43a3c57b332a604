import { conformance } from './scenarios.js';
import { hostile, load } from './hostile.js';
import { faults } from './faults.js';
import { koaApp } from './apps/koa.js';

conformance(koaApp);
hostile(koaApp);
load(koaApp);
faults(koaApp);
