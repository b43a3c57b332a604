import { createRequire } from 'node:module';

// `@opentelemetry/api`, loaded through require: its CommonJS entry is one file, its ES build ~30 modules, so importing
// an adapter loads and allocates far less at startup (bench/RESULTS.md, "Node's tick objects"). The API's state is
// global (one registry per major), so this copy and an ESM copy elsewhere in the process see the same providers.

type Api = typeof import('@opentelemetry/api');

export const otelApi = createRequire(import.meta.url)('@opentelemetry/api') as Api;
