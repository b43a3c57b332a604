import { conformance } from './scenarios.js';
import { fastifyApp } from './apps/fastify.js';

conformance(fastifyApp);
