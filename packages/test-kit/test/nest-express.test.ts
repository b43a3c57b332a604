import { conformance } from './scenarios.js';
import { hostile, load } from './hostile.js';
import { faults } from './faults.js';
import { nestScenarios } from './nest-scenarios.js';
import { nestExpressApp } from './apps/nest-express.js';

conformance(nestExpressApp);
hostile(nestExpressApp);
load(nestExpressApp);
faults(nestExpressApp);
// last: its routes are not among the templates hostile() accepts
nestScenarios(nestExpressApp);
