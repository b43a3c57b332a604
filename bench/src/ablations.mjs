// Diagnosis only (the `meterline-no-<part>` variants): meterline with one part of its per-request work taken out.
// Done from outside, on what the built packages expose at run time (the prototypes of the runtime's instances,
// Node's prototypes, Express's router Layer), never by changing the packages: the meterline variant measured next to
// it is the shipped code. meterline's cost minus the ablation's is that part's cost.
//
//   no-route   Express: the router Layer's request/error handlers restored to Express's own (no per-layer hook);
//              every framework: AdapterCore#setRoute does nothing (Koa resolves no template, Express's first
//              request per route neither). Fastify resolves a route once per route, not per request: nothing to
//              take out there, the variant is meterline again.
//   no-clock   performance.now() answers 0: the two clock reads per request are gone (a call remains)
//   no-record  the runtime's store hands out one inert series: no series lookup, no histogram records
//   no-bytes   IncomingMessage#push and ServerResponse#write restored to Node's own: request bytes and the body bytes
//              of write() are not counted (end() still counts its chunk: it also takes the status)
import { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

const INERT_HISTOGRAM = { record: () => 0, exemplar() {} };
const INERT_SERIES = {
  duration: INERT_HISTOGRAM,
  requestSize: INERT_HISTOGRAM,
  responseSize: INERT_HISTOGRAM,
  timeToFirstByte: undefined,
};

/** The Layer prototype of the installed Express router (either major) and the names of its two handlers. */
async function expressLayer() {
  const { default: express } = await import('express');
  const probe = express.Router();
  probe.use(function probeLayer() {});
  const proto = Object.getPrototypeOf(probe.stack[0]);
  const names = ['handleRequest', 'handleError', 'handle_request', 'handle_error'].filter(
    (name) => typeof proto[name] === 'function',
  );
  return { proto, names };
}

/** The prototypes meterline's runtime patches in a framework's process: Node's, and Express's router and Layer. */
async function patchedPrototypes(framework) {
  const protos = [IncomingMessage.prototype, ServerResponse.prototype];
  if (framework === 'express') {
    const { default: express } = await import('express');
    // Express 5: the router package's Router.prototype; Express 4: express/lib/router's proto (the Router function)
    protos.push(
      typeof express.Router.prototype?.handle === 'function' ? express.Router.prototype : express.Router,
    );
    protos.push((await expressLayer()).proto);
  }
  return protos;
}

/**
 * Run before meterline's runtime is created (the `runtime` variant): keeps every own property of the prototypes it
 * patches. Resolves to the function that puts them back as they were (added keys removed), leaving the runtime's
 * SDK and store in the process with nothing of the request path patched.
 */
export async function keepPrototypes(framework) {
  const kept = (await patchedPrototypes(framework)).map((proto) => [
    proto,
    new Map(Reflect.ownKeys(proto).map((key) => [key, Object.getOwnPropertyDescriptor(proto, key)])),
  ]);
  return () => {
    for (const [proto, own] of kept) {
      for (const key of Reflect.ownKeys(proto)) if (!own.has(key)) delete proto[key];
      for (const [key, descriptor] of own) Object.defineProperty(proto, key, descriptor);
    }
  };
}

/**
 * Run before meterline's line: keeps what the ablation restores later. Resolves to the function to run once the app
 * is built (meterline's runtime exists then), which takes `part` out.
 */
export async function prepareAblation(part, framework) {
  switch (part) {
    case 'no-route': {
      const layer = framework === 'express' ? await expressLayer() : undefined;
      const own = layer?.names.map((name) => [name, layer.proto[name]]) ?? [];
      return async () => {
        for (const [name, fn] of own) layer.proto[name] = fn;
        const { AdapterCore } = await import('@meterline/core/adapter');
        AdapterCore.prototype.setRoute = function setRoute() {};
      };
    }
    case 'no-clock':
      return async () => {
        performance.now = () => 0;
      };
    case 'no-record':
      return async () => {
        const { getMeterline } = await import('@meterline/core');
        Object.getPrototypeOf(getMeterline().store).series = () => INERT_SERIES;
      };
    case 'no-bytes': {
      const push = IncomingMessage.prototype.push;
      const write = ServerResponse.prototype.write;
      return async () => {
        IncomingMessage.prototype.push = push;
        ServerResponse.prototype.write = write;
      };
    }
    default:
      throw new Error(`unknown ablation ${part}`);
  }
}
