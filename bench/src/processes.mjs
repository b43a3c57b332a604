// The benchmarks' child processes: each pinned to a CPU where the machine allows it (servers on CPU 1, load on CPU 0),
// driven over IPC (servers: ipc.mjs; load generators: load.mjs).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Two CPUs and taskset: servers and load generators each get a CPU of their own. */
export const canPin = availableParallelism() >= 2 && existsSync('/usr/bin/taskset');

/** `node ...args` (paths relative to `cwd`, by default src/) on `cpu` if the machine allows pinning. */
export function spawnNode(cpu, args, stdio = ['ignore', 'inherit', 'inherit', 'ipc'], cwd = here) {
  const [cmd, argv] = canPin
    ? ['taskset', ['-c', String(cpu), process.execPath, ...args]]
    : [process.execPath, args];
  return spawn(cmd, argv, { cwd, stdio });
}

/** The next IPC message of `type` from a child process; rejects if it exits first or after `timeoutMs`. */
export function nextMessage(child, type, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${type} message from process ${child.pid}`)),
      timeoutMs,
    );
    const onMessage = (m) => {
      if (m?.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`process ${child.pid} exited (${code}) before ${type}`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Run `node ...args` on `cpu` to its end (killed after `timeoutMs`); resolves to its stdout. */
export function runNode(cpu, args, timeoutMs) {
  const child = spawnNode(cpu, args, ['ignore', 'pipe', 'inherit']);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${args.join(' ')} exited with ${code}`));
    });
  });
}

/**
 * A long-lived load generator (load.mjs) on `cpu`. `run(port, seconds, connections)` sends GET /users/42 for
 * `seconds` and resolves to load.mjs's result: 2xx, non-2xx, errors, timeouts, seconds, p50 and p99 in ms.
 */
export async function startLoader(cpu = 0) {
  const child = spawnNode(cpu, ['load.mjs']);
  await nextMessage(child, 'ready');
  return {
    async run(port, seconds, connections) {
      const answer = nextMessage(child, 'result', (seconds + 30) * 1000);
      child.send({ url: `http://127.0.0.1:${port}/users/42`, connections, seconds });
      const m = await answer;
      if (m.error !== undefined) throw new Error(`load generator: ${m.error}`);
      return m.result;
    },
    stop() {
      if (child.connected) child.send('exit');
    },
  };
}

/**
 * A long-lived open-loop load generator (open-loop.mjs) on `cpu`. `run(port, { rate, warmup, seconds, connections })`
 * sends GET /users/42 at `rate` per second for `warmup + seconds` and resolves to open-loop.mjs's result (counts,
 * achieved rate, p50/p99/p99.9 in ms of the requests after the warm-up, measured from their scheduled send time).
 */
export async function startOpenLoopLoader(cpu = 0) {
  const child = spawnNode(cpu, ['open-loop.mjs']);
  await nextMessage(child, 'ready');
  return {
    async run(port, { rate, warmup, seconds, connections }) {
      const answer = nextMessage(child, 'result', (warmup + seconds + 30) * 1000);
      child.send({ port, path: '/users/42', rate, warmup, seconds, connections });
      const m = await answer;
      if (m.error !== undefined) throw new Error(`open-loop load generator: ${m.error}`);
      return m.result;
    },
    stop() {
      if (child.connected) child.send('exit');
    },
  };
}

/**
 * One benchmark server (server.mjs: `framework`'s app as `variant`, see variants.mjs) on `cpu`, listening on a
 * free loopback port. `nodeOptions` go to node before the script (e.g. --perf-basic-prof); `script` and `args`
 * start another server script that speaks ipc.mjs (e.g. scale-server.mjs with its route count). `dir` is the folder
 * of the script, its working directory: src/, or a framework major's copy (majors.mjs).
 */
export async function startServer(
  framework,
  variant,
  { cpu = 1, nodeOptions = [], script = 'server.mjs', args = [], dir = here } = {},
) {
  const child = spawnNode(cpu, [...nodeOptions, script, framework, variant, ...args], undefined, dir);
  const { port } = await nextMessage(child, 'listening');
  return {
    framework,
    variant,
    child,
    port,
    /** Start a CPU-time window. */
    async mark() {
      const marked = nextMessage(child, 'marked');
      child.send('mark');
      await marked;
    },
    /** CPU time (user + system, µs) the server used since the last mark. */
    async cpuSinceMark() {
      const reported = nextMessage(child, 'report');
      child.send('report');
      return (await reported).cpuMicros;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      if (child.connected) child.send('exit');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
