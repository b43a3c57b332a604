// The support matrix: one row per supported combination of framework major, Node major and OpenTelemetry JS line.
// Each row is proven by a clean project that installs the packed tarballs with a plain `npm install` and passes
// `conformance()` of packages/test-kit against the row's app (packages/test-kit/test/apps/<app>).
//
//   id       name used in the README's support table and for `--cell`
//   node     Node.js major the project is installed and tested with
//   otel     @opentelemetry/sdk-metrics major npm must pick on that Node (2 on Node 20, 3 on Node 22.15+)
//   adapter  meterline packages whose tarballs are installed (with core)
//   install  framework packages, as given to npm install
//   app      file under packages/test-kit/test/apps exporting the ConformanceApp
//
// A new major is one line: the framework packages and the app file that drives it.

const express5 = { adapter: ['express'], install: ['express@5'], app: 'express.ts' };
const fastify5 = { adapter: ['fastify'], install: ['fastify@5'], app: 'fastify.ts' };
const koa3 = { adapter: ['koa'], install: ['koa@3', '@koa/router@15'], app: 'koa.ts' };

export const cells = [
  { id: 'express5-node24', node: 24, otel: 3, ...express5 },
  { id: 'fastify5-node24', node: 24, otel: 3, ...fastify5 },
  { id: 'koa3-node24', node: 24, otel: 3, ...koa3 },
  { id: 'express5-node22', node: 22, otel: 3, ...express5 },
  { id: 'fastify5-node22', node: 22, otel: 3, ...fastify5 },
  { id: 'koa3-node22', node: 22, otel: 3, ...koa3 },
  { id: 'express5-node20', node: 20, otel: 2, ...express5 },
  { id: 'fastify5-node20', node: 20, otel: 2, ...fastify5 },
  { id: 'koa3-node20', node: 20, otel: 2, ...koa3 },
];

// Kept honest here rather than at run time: a typo in the table fails every invocation, naming the row.
for (const c of cells) {
  for (const key of ['id', 'node', 'otel', 'adapter', 'install', 'app']) {
    if (c[key] === undefined) throw new Error(`matrix cell ${c.id ?? JSON.stringify(c)}: missing "${key}"`);
  }
}
if (new Set(cells.map((c) => c.id)).size !== cells.length) throw new Error('matrix cells: duplicate id');
