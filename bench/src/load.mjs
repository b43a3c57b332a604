// The load generator in its own long-lived process (pinned to its own CPU by the runner), driven over IPC:
// each message `{ url, connections, seconds }` runs autocannon once and answers with the results, p50 and p99 taken
// from every 2xx response's latency at full resolution (autocannon's own histogram rounds to whole ms), except each
// connection's first.
import autocannon from 'autocannon';
import { serveLoadRuns } from './ipc.mjs';

function percentiles(latencies) {
  const sorted = latencies.sort();
  const at = (q) =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

function run({ url, connections, seconds }) {
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  return new Promise((resolve, reject) => {
    // autocannon checks for the end once per sample interval (1 s by default, so a 0.4 s run took ~1 s): sample
    // every 50 ms and stop it after `seconds`
    const options = { url, connections, duration: Math.ceil(seconds) + 5, sampleInt: 50 };
    const started = performance.now();
    const instance = autocannon(options, (err, result) => {
      clearTimeout(timer);
      const elapsed = (performance.now() - started) / 1000;
      if (err) reject(err);
      else
        resolve({
          ok2xx: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          // autocannon's own figure is rounded to 10 ms, 2-3 % of a slice
          seconds: elapsed,
          ...percentiles(latencies.subarray(0, n)),
        });
    });
    const timer = setTimeout(() => instance.stop(), seconds * 1000);
    // each connection's first response also waited for the connection to be set up: left out of the latencies
    // (one per connection, about 1 % of a short slice of a slow server, which is exactly where p99 sits)
    const connected = new WeakSet();
    instance.on('response', (client, statusCode, _bytes, responseTime) => {
      if (!connected.has(client)) {
        connected.add(client);
        return;
      }
      if (statusCode < 200 || statusCode >= 300) return;
      if (n === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[n++] = responseTime;
    });
  });
}

serveLoadRuns(run);
