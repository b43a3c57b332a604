// The parent of a benchmark server talks to it over IPC: 'mark' starts a CPU-time window, 'report' answers with
// the CPU time used since the mark, 'exit' ends it. Call once the server listens.
export function serveBenchmarkIpc(server) {
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
}

/**
 * The other side, a load-generator process: each message runs `run(message)` and answers with its result (or its
 * error); 'exit' ends the process.
 */
export function serveLoadRuns(run) {
  process.on('message', (message) => {
    if (message === 'exit') process.exit(0);
    run(message).then(
      (result) => process.send({ type: 'result', result }),
      (err) => process.send({ type: 'result', error: String(err?.stack ?? err) }),
    );
  });
  process.send({ type: 'ready' });
}
