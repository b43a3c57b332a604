// The support matrix: one cell per supported combination of framework major, Node major and OpenTelemetry JS line.
// Each cell is proven by a clean project that installs the packed tarballs with a plain `npm install` and passes
// `conformance()` of packages/test-kit against the cell's app (packages/test-kit/test/apps/<app>).
//
//   id       name used in the README's support table and for `--cell`
//   node     Node.js major the project is installed and tested with
//   otel     @opentelemetry/sdk-metrics major npm must pick on that Node (2 on Node 20, 3 on Node 22.15+)
//   adapter  meterline packages (packages/<name>) whose tarballs are installed, with core
//   install  framework packages, as given to npm install
//   app      file under packages/test-kit/test/apps exporting the ConformanceApp

/** The Node versions every framework major is proven on, and the OpenTelemetry line npm picks on each. */
export const NODES = [
  { node: 24, otel: 3 },
  { node: 22, otel: 3 },
  { node: 20, otel: 2 },
];

/** One cell per Node of NODES for a framework major, named `<name>-node<major>`. */
const onEveryNode = (name, framework) =>
  NODES.map(({ node, otel }) => ({ id: `${name}-node${node}`, node, otel, ...framework }));

// A framework major is one line: its packages and the app file that drives it.
export const cells = [
  ...onEveryNode('express5', { adapter: ['express'], install: ['express@5'], app: 'express.ts' }),
  ...onEveryNode('express4', { adapter: ['express'], install: ['express@4'], app: 'express4.ts' }),
  ...onEveryNode('fastify5', { adapter: ['fastify'], install: ['fastify@5'], app: 'fastify.ts' }),
  ...onEveryNode('koa3', { adapter: ['koa'], install: ['koa@3', '@koa/router@15'], app: 'koa.ts' }),
];

// Checked on load: a typo in the table fails every invocation, naming the cell.
for (const c of cells) {
  for (const key of ['id', 'node', 'otel', 'adapter', 'install', 'app']) {
    if (c[key] === undefined) throw new Error(`matrix cell ${c.id ?? JSON.stringify(c)}: missing "${key}"`);
  }
}
if (new Set(cells.map((c) => c.id)).size !== cells.length) throw new Error('matrix cells: duplicate id');
