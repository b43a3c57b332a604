// One benchmark server in its own process: `node server.mjs <framework> <variant>`, driven over IPC (ipc.mjs).
import { startApp } from './apps.mjs';
import { serveBenchmarkIpc } from './ipc.mjs';

const [framework, variant] = process.argv.slice(2);
serveBenchmarkIpc(await startApp(framework, variant));
