import { conformance } from './scenarios.js';
import { hostile, load } from './hostile.js';
import { faults } from './faults.js';
import { fastifyApp } from './apps/fastify.js';

conformance(fastifyApp);
hostile(fastifyApp);
load(fastifyApp);
faults(fastifyApp);
