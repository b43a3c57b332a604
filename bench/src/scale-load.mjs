// The scale benchmark's load generator in its own process (pinned by the runner), driven over IPC. 'start' opens
// `connections` keep-alive connections with autocannon (closed loop, one request in flight per connection);
// connection k sends to route k % routes (with more routes than connections it cycles through k, k + connections,
// ...), so every route is hit. 'mark' starts a counting window, 'count' answers the responses since the mark,
// 'drain' stops new requests, waits for every sent one to be answered and closes the connections, so that the server's
// own count can be compared with the 2xx received.
import autocannon from 'autocannon';
import { routePath } from './scale-apps.mjs';

/**
 * Requests per second per connection until 'unleash': a server saturated by the first connections' requests
 * accepted only a few more per second (the rest waited in its accept queue until they timed out); opened at this
 * rate they are all accepted before the load starts. A connection that has its first answer then waits, sending
 * nothing, until 'unleash': three slow servers sharing a core could not answer 2,000 requests per second each.
 */
const OPENING_RATE = 1;

/**
 * autocannon's request timeout, in seconds: 2,000 closed-loop connections on a server sharing its core with two
 * others wait ~1 s per request on a slow machine, and the unluckiest ones more than autocannon's default 10 s.
 */
const REQUEST_TIMEOUT_S = 60;

/** The longest a drain may take: the request timeout plus margin. */
const DRAIN_LIMIT_MS = (REQUEST_TIMEOUT_S + 5) * 1000;

let run;

// autocannon's timers (retimer) schedule negative delays when this busy process runs late: Node's warning is noise
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'TimeoutNegativeWarning') console.warn(w);
});

function start({ port, connections, routes, maxSeconds }) {
  const state = {
    clients: [],
    ok2xx: 0,
    non2xx: 0,
    errors: 0,
    answered: new WeakSet(),
    connected: 0,
    unleashed: false,
  };
  state.mark = { ok2xx: 0, non2xx: 0, errors: 0 };
  const options = {
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: maxSeconds,
    // autocannon checks for the end once per sample interval (1 s by default): a drained run ends within 50 ms
    sampleInt: 50,
    timeout: REQUEST_TIMEOUT_S,
    connectionRate: OPENING_RATE,
    setupClient(client) {
      const k = state.clients.length;
      state.clients.push(client);
      const requests = [];
      for (let i = k % routes; i < routes; i += connections) {
        requests.push({ method: 'GET', path: routePath(i, k) });
      }
      client.setRequests(requests);
    },
  };
  state.finished = new Promise((resolve, reject) => {
    state.instance = autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
  });
  state.instance.on('response', (client, statusCode) => {
    if (statusCode >= 200 && statusCode < 300) state.ok2xx++;
    else state.non2xx++;
    if (!state.answered.has(client)) {
      state.answered.add(client);
      state.connected++;
      if (!state.unleashed) hold(client);
    }
  });
  state.instance.on('reqError', () => state.errors++);
  return state;
}

const since = (s) => ({
  ok2xx: s.ok2xx - s.mark.ok2xx,
  non2xx: s.non2xx - s.mark.non2xx,
  errors: s.errors - s.mark.errors,
  connected: s.connected,
});

/**
 * Keep an opened connection quiet until 'unleash': autocannon emits 'response' before it sends the next request,
 * which this per-second quota refuses (the client marks itself paused); no rate timer refills the quota and the
 * request timeout does not run out while nothing is in flight.
 */
function hold(client) {
  client.reqsMadeThisSecond = Infinity;
  clearInterval(client.rateInterval);
  // retimer's clear() would also drop the next request's timeout: push it past the run instead
  client.timeoutTicker.reschedule(3_600_000);
}

function unleash(s) {
  s.unleashed = true;
  // autocannon's per-connection rate (its connectionRate option) lifted: a connection waiting for its next second
  // sends at once, the others as soon as their response is in
  for (const client of s.clients) {
    client.rate = 0;
    client.reqsMadeThisSecond = 0;
    clearInterval(client.rateInterval);
    if (client.paused) {
      client.paused = false;
      client._doRequest();
    }
  }
}

async function drain(s) {
  // autocannon's per-connection request limit (how its `amount` works): a connection that has sent its limit
  // closes once its response is in instead of sending another
  for (const client of s.clients) client.responseMax = client.reqsMade;
  const started = performance.now();
  const guard = setTimeout(() => s.instance.stop(), DRAIN_LIMIT_MS);
  const result = await s.finished;
  clearTimeout(guard);
  return {
    ok2xx: s.ok2xx,
    non2xx: s.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    drainSeconds: (performance.now() - started) / 1000,
  };
}

/** The answer's type to each request: a failure comes back as that type with `error`. */
const ANSWER = {
  start: 'started',
  unleash: 'unleashed',
  mark: 'marked',
  count: 'count',
  drain: 'drained',
};

process.on('message', (message) => {
  if (message === 'exit') process.exit(0);
  const kind = message?.type ?? message;
  const reply = (m) => process.send({ type: ANSWER[kind], ...m });
  try {
    if (kind === 'start') {
      run = start(message);
      reply({});
    } else if (kind === 'unleash') {
      unleash(run);
      reply({});
    } else if (kind === 'mark') {
      run.mark = { ok2xx: run.ok2xx, non2xx: run.non2xx, errors: run.errors };
      reply({ connected: run.connected });
    } else if (kind === 'count') {
      reply(since(run));
    } else if (kind === 'drain') {
      drain(run).then(
        (result) => reply({ result }),
        (err) => reply({ error: String(err?.stack ?? err) }),
      );
    }
  } catch (err) {
    reply({ error: String(err?.stack ?? err) });
  }
});
process.send({ type: 'ready' });
