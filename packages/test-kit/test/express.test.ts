import { conformance } from './scenarios.js';
import { hostile, load } from './hostile.js';
import { faults } from './faults.js';
import { expressApp } from './apps/express.js';

conformance(expressApp);
hostile(expressApp);
load(expressApp);
faults(expressApp);
