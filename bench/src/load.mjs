// The load generator in its own process (pinned to its own CPU by the runner):
// `node load.mjs <url> <connections> <seconds>` prints one JSON line with the results.
// Latencies are taken from every response at full resolution (autocannon's own histogram rounds to whole ms).
import autocannon from 'autocannon';

const [url, connections, seconds] = process.argv.slice(2);
let latencies = new Float64Array(1 << 16);
let n = 0;

const instance = autocannon({ url, connections: Number(connections), duration: Number(seconds) });
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  if (statusCode < 200 || statusCode >= 300) return;
  if (n === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[n++] = responseTime;
});
instance.on('done', (result) => {
  const sorted = latencies.subarray(0, n).sort();
  const at = (q) => (n === 0 ? NaN : sorted[Math.min(n - 1, Math.floor(q * n))]);
  process.stdout.write(
    JSON.stringify({
      ok2xx: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      seconds: result.duration,
      rps: result['2xx'] / result.duration,
      p50: at(0.5),
      p99: at(0.99),
    }) + '\n',
  );
});
