// The open-loop load generator in its own long-lived process (pinned to CPU 0 by the runner), driven over IPC: each
// message `{ port, path, rate, warmup, seconds, connections }` sends GET `path` at `rate` requests per second for
// `warmup + seconds`, whether or not earlier requests were answered, and answers with the latencies of the requests
// scheduled after the warm-up. A latency runs from the request's scheduled send time, so a slow server or a late
// generator shows in it (no coordinated omission).
//
// Requests go over `connections` keep-alive connections, all opened before the schedule starts (none is set up while
// the server is busy), one request at a time on each, the most recently freed one first.
// The client is a few lines on node:net (a prebuilt request, responses framed by Content-Length) rather than undici:
// undici costs about as much CPU per request as the servers do, and fell behind its schedule by >10 ms at half of
// bare Koa's rate; this one must cost well below the server's CPU per request to be on time (bench/README.md).
import { connect } from 'node:net';
import { serveLoadRuns } from './ipc.mjs';

// generous: a request that takes this long is an error, not a latency
const TIMEOUT_MS = 10_000;
// a connection idle this long is closed rather than reused: node's server drops idle keep-alive connections after 5 s
const IDLE_MS = 4_000;
const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

function percentile(sorted, q) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function run({ port, path, rate, warmup, seconds, connections }) {
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 'latin1');
  const interval = 1000 / rate;
  const total = Math.round((warmup + seconds) * rate);
  const firstMeasured = Math.round(warmup * rate);
  const latencies = new Float64Array(total - firstMeasured);
  // how late each measured request that found a free connection was sent: the generator's own delay
  const lags = new Float64Array(total - firstMeasured);
  let lagged = 0;
  let start = 0;
  let windowStart = 0;
  let windowEnd = 0;
  let next = 0;
  let recorded = 0;
  let ok2xx = 0;
  let non2xx = 0;
  let errors = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let waited = 0;
  let doneInWindow = 0;
  let opened = 0;
  /** idle connections, the most recently used last */
  const free = [];
  /** requests scheduled while every connection was busy: their indexes, oldest first */
  const waiting = [];
  const all = new Set();
  let settle;
  const drained = new Promise((resolve) => (settle = resolve));

  function finished(index, status) {
    const end = performance.now();
    inFlight--;
    if (end >= windowStart && end < windowEnd) doneInWindow++;
    if (index >= firstMeasured) {
      if (status === 0) errors++;
      else if (status >= 200 && status < 300) {
        ok2xx++;
        latencies[recorded++] = end - (start + index * interval);
      } else non2xx++;
    }
    if (inFlight === 0 && next === total) settle();
  }

  function open() {
    opened++;
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    const c = { socket, index: -1, buffered: null, idleSince: 0, connected: false };
    all.add(c);
    socket.setTimeout(TIMEOUT_MS);
    socket.on('connect', () => {
      c.connected = true;
      release(c);
    });
    socket.on('data', (chunk) => onData(c, chunk));
    socket.on('timeout', () => socket.destroy());
    socket.on('error', () => {});
    socket.on('close', () => {
      all.delete(c);
      opened--;
      const i = free.indexOf(c);
      if (i !== -1) free.splice(i, 1);
      if (c.index !== -1) finished(c.index, 0);
      c.index = -1;
      // the server refuses connections: the requests waiting for one fail rather than retry forever
      if (!c.connected) while (waiting.length > 0) finished(waiting.shift(), 0);
      // requests queued for it must not wait for a connection that never comes
      else if (waiting.length > 0 && opened < connections) open();
    });
  }

  function assign(c, index) {
    c.index = index;
    c.socket.write(request);
  }

  /** A connection is free: give it the oldest waiting request, or park it. */
  function release(c) {
    c.index = -1;
    c.buffered = null;
    if (waiting.length > 0) assign(c, waiting.shift());
    else {
      c.idleSince = performance.now();
      free.push(c);
    }
  }

  function send(index, now) {
    inFlight++;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    let c = free.pop();
    while (c !== undefined && now - c.idleSince > IDLE_MS) {
      c.socket.destroy();
      c = free.pop();
    }
    if (c !== undefined) {
      if (index >= firstMeasured) lags[lagged++] = now - (start + index * interval);
      return assign(c, index);
    }
    waiting.push(index);
    if (index >= firstMeasured) waited++;
    if (opened < connections) open();
  }

  function onData(c, chunk) {
    const buf = c.buffered === null ? chunk : Buffer.concat([c.buffered, chunk]);
    const headerEnd = buf.indexOf(HEADER_END);
    if (headerEnd === -1) return void (c.buffered = buf);
    const length = CONTENT_LENGTH.exec(buf.latin1Slice(0, headerEnd));
    // the benchmark apps answer with a Content-Length; anything else (or a second response) is a failed request
    const size = length === null ? -1 : headerEnd + 4 + Number(length[1]);
    if (size === -1 || buf.length > size || c.index === -1) return void c.socket.destroy();
    if (buf.length < size) return void (c.buffered = buf);
    const index = c.index;
    release(c);
    finished(index, Number(buf.latin1Slice(9, 12)));
  }

  // at every turn of the event loop, send every request whose time has come. This keeps CPU 0 busy; a 1 ms timer
  // instead sent requests up to 2 ms late (libuv's timers count whole ms), which added ~1.3 ms to every latency
  function tick() {
    const now = performance.now();
    while (next < total && start + next * interval <= now) send(next++, now);
    if (next < total) setImmediate(tick);
    else if (inFlight === 0) settle();
  }

  return (async () => {
    for (let i = 0; i < connections; i++) open();
    await new Promise((resolve, reject) => {
      const check = setInterval(() => {
        if (free.length === connections) resolve(clearInterval(check));
        else if (opened < connections) {
          clearInterval(check);
          reject(new Error(`could not open ${connections} connections`));
        }
      }, 5);
    });
    start = performance.now() + 1;
    windowStart = start + warmup * 1000;
    windowEnd = windowStart + seconds * 1000;
    setImmediate(tick);
    await drained;
    for (const c of all) c.socket.destroy();
    const sorted = latencies.subarray(0, recorded).sort();
    return {
      rate,
      seconds,
      sent: total - firstMeasured,
      ok2xx,
      non2xx,
      errors,
      // responses that arrived within the measured window, per second: the rate the server actually kept up
      achievedRate: doneInWindow / seconds,
      maxInFlight,
      // measured requests that found every open connection busy
      waited,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      p999: percentile(sorted, 0.999),
      max: percentile(sorted, 1),
      lagP99: percentile(lags.subarray(0, lagged).sort(), 0.99),
    };
  })();
}

serveLoadRuns(run);
