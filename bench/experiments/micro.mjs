// Hot-path micro-benchmark: meterline's added cost per request on real node:http IncomingMessage/ServerResponse
// objects without a network (req/res created, route reported, response written and closed), interleaved with the
// same work uninstrumented. `npm run bench:micro -- [blocks] [perBlock]` prints one JSON line (ns/request).
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { AdapterCore } from '@meterline/core/adapter';
import { median } from '../src/stats.mjs';

const blocks = Number(process.argv[2] ?? 30);
const perBlock = Number(process.argv[3] ?? 20000);
const adapter = new AdapterCore('micro', {});
const socket = new Socket();
const body = JSON.stringify({ id: '42', name: 'Ada Lovelace', role: 'admin' });

function request(instrument) {
  const req = new IncomingMessage(socket);
  req.method = 'GET';
  req.httpVersion = '1.1';
  req.url = '/users/42';
  const res = new ServerResponse(req);
  if (instrument) {
    const state = adapter.start(req, res);
    adapter.setRoute(state, '/users/:id');
  }
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(body);
  // no socket: pretend the bytes went out, as on a real connection, then close
  res.outputData = [];
  res.outputSize = 0;
  res.emit('finish');
  res.emit('close');
}

function block(instrument) {
  const t = process.cpuUsage();
  for (let i = 0; i < perBlock; i++) request(instrument);
  const u = process.cpuUsage(t);
  return ((u.user + u.system) * 1000) / perBlock;
}

for (let i = 0; i < 5; i++) {
  block(false);
  block(true);
}
const added = [];
const bare = [];
for (let b = 0; b < blocks; b++) {
  const a = block(false);
  const m = block(true);
  bare.push(a);
  added.push(m - a);
}
const series = adapter.runtime.store.seriesCount;
if (process.env.SHOW) console.log(await adapter.runtime.scrape());
process.stdout.write(JSON.stringify({ bareNs: median(bare), addedNs: median(added), series }) + '\n');
