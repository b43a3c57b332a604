import { conformance } from './scenarios.js';
import { hostile, load } from './hostile.js';
import { faults } from './faults.js';
import { nestScenarios } from './nest-scenarios.js';
import { nestFastifyApp } from './apps/nest-fastify.js';

conformance(nestFastifyApp);
hostile(nestFastifyApp);
load(nestFastifyApp);
faults(nestFastifyApp);
// last: its routes are not among the templates hostile() accepts
nestScenarios(nestFastifyApp);
