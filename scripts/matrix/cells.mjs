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

/** The NestJS packages of a Nest major on one platform (`express` or `fastify`). */
function nest(major, platform) {
  const scoped = ['core', 'common', `platform-${platform}`].map((p) => `@nestjs/${p}@${major}`);
  return [...scoped, 'reflect-metadata@0.2', 'rxjs@7'];
}

// A framework major is one line: its packages and the app file that drives it.
export const cells = [
  ...onEveryNode('express5', { adapter: ['express'], install: ['express@5'], app: 'express.ts' }),
  ...onEveryNode('express4', { adapter: ['express'], install: ['express@4'], app: 'express4.ts' }),
  ...onEveryNode('fastify5', { adapter: ['fastify'], install: ['fastify@5'], app: 'fastify.ts' }),
  ...onEveryNode('koa3', { adapter: ['koa'], install: ['koa@3', '@koa/router@15'], app: 'koa.ts' }),
  ...onEveryNode('fastify4', { adapter: ['fastify'], install: ['fastify@4'], app: 'fastify.ts' }),
  // Koa 2 with the oldest supported router major (12); Koa 3 above runs the newest (15)
  ...onEveryNode('koa2', { adapter: ['koa'], install: ['koa@2', '@koa/router@12'], app: 'koa.ts' }),
  ...onEveryNode('nest11-express', { adapter: ['express'], install: nest(11, 'express'), app: 'nest-express.ts' }),
  ...onEveryNode('nest11-fastify', { adapter: ['fastify'], install: nest(11, 'fastify'), app: 'nest-fastify.ts' }),
  // Express 4 keeps its router inside each copy: the app's express must be the very one Nest 10 pins
  ...onEveryNode('nest10-express', {
    adapter: ['express'],
    install: [...nest(10, 'express'), 'express@4.22.1'],
    app: 'nest-express.ts',
  }),
  ...onEveryNode('nest10-fastify', { adapter: ['fastify'], install: nest(10, 'fastify'), app: 'nest-fastify.ts' }),
];

// Checked on load: a typo in the table fails every invocation, naming the cell.
for (const c of cells) {
  for (const key of ['id', 'node', 'otel', 'adapter', 'install', 'app']) {
    if (c[key] === undefined) throw new Error(`matrix cell ${c.id ?? JSON.stringify(c)}: missing "${key}"`);
  }
}
if (new Set(cells.map((c) => c.id)).size !== cells.length) throw new Error('matrix cells: duplicate id');
