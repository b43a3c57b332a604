// The scraper for scrape-cost.mjs, in its own process (as Prometheus is), so that the server's event-loop delay
// measures the server only: `node scrape-client.mjs <port> <gzip 0|1> <count>`, driven over IPC: it says 'ready'
// once loaded, scrapes when told 'go' (so that starting this process is not inside the server's measured window)
// and answers with the timings.
import { Agent, request } from 'node:http';

const [port, gzip, count] = process.argv.slice(2).map(Number);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get() {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/metrics',
        agent,
        headers: gzip ? { 'accept-encoding': 'gzip' } : {},
      },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk) => (bytes += chunk.length));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`/metrics answered ${res.statusCode}`));
          else resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, bytes });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

process.once('message', async () => {
  const times = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const r = await get();
    times.push(r.ms);
    bytes = r.bytes;
  }
  agent.destroy();
  process.send({ times, bytes }, () => process.exit(0));
});
process.send('ready');
