import { conformance } from './scenarios.js';
import { expressApp } from './apps/express.js';

conformance(expressApp);
