import type { Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { reportOnce } from './report.js';
import type { HttpStore } from './store.js';
import type { PortGroup } from './series.js';
import { watchUpgrades } from './upgrades.js';

/** Registered symbols: a socket or server marked by one copy of core is not tracked again by another. */
const kConnection: unique symbol = Symbol.for('meterline.socket.group') as any;
const kConnectionStart: unique symbol = Symbol.for('meterline.socket.start') as any;
const kServerTracked: unique symbol = Symbol.for('meterline.server.tracked') as any;

type Tracked = { [kConnection]?: PortGroup | null; [kConnectionStart]?: number };

/** Whether the socket is tracked already (or deliberately left out, e.g. `inject()`'s fake socket). */
export function isTracked(socket: Socket): boolean {
  return (socket as Tracked)[kConnection] !== undefined;
}

/** Leave a socket out of the network counters (a fake socket that carries no bytes of its own). */
export function leaveOut(socket: object): void {
  if ((socket as Tracked)[kConnection] === undefined) (socket as Tracked)[kConnection] = null;
}

/** Measure this socket and, from now on, every socket of its server, including those that never send a request. */
export function trackSocket(store: HttpStore, socket: Socket): void {
  const server = (socket as { server?: Server }).server;
  if (server !== undefined && server !== null && (server as any)[kServerTracked] === undefined) {
    (server as any)[kServerTracked] = true;
    server.on('connection', function onConnection(s: Socket) {
      if ((s as Tracked)[kConnection] === undefined) addSocket(store, s);
    });
    watchUpgrades(store, server);
  }
  addSocket(store, socket);
}

function addSocket(store: HttpStore, socket: Socket): void {
  const unix = socket.localPort === undefined;
  const group = store.portGroup(unix ? undefined : socket.localPort, unix ? 'unix' : 'tcp');
  (socket as Tracked)[kConnection] = group;
  (socket as Tracked)[kConnectionStart] = performance.now();
  group.live.add(socket);
  socket.on('close', onSocketClose);
}

function onSocketClose(this: Socket): void {
  try {
    const group = (this as Tracked)[kConnection];
    if (group === undefined || group === null || !group.live.delete(this)) return;
    group.closedRead += this.bytesRead;
    group.closedWritten += this.bytesWritten;
    group.connectionDuration.record(
      (performance.now() - ((this as Tracked)[kConnectionStart] as number)) / 1000,
    );
  } catch (err) {
    reportOnce('socket close', err);
  }
}
