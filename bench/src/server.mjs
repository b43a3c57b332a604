// One benchmark server in its own process: `node server.mjs <framework> <variant>`.
// The parent talks to it over IPC: 'mark' starts a CPU-time window, 'report' answers with the CPU time used
// since the mark, 'exit' ends it.
import { startApp } from './apps.mjs';

const [framework, variant] = process.argv.slice(2);
const server = await startApp(framework, variant);
let mark = process.cpuUsage();
process.on('message', (message) => {
  if (message === 'mark') {
    mark = process.cpuUsage();
    process.send({ type: 'marked' });
  } else if (message === 'report') {
    const used = process.cpuUsage(mark);
    process.send({ type: 'report', cpuMicros: used.user + used.system, rss: process.memoryUsage().rss });
  } else if (message === 'exit') {
    server.close();
    process.exit(0);
  }
});
process.send({ type: 'listening', port: server.address().port });
