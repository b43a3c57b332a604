// One benchmark server in its own process: `node server.mjs <framework> <variant> [unsettled]`, driven over IPC
// (ipc.mjs).
import { startApp } from './apps.mjs';
import { serveBenchmarkIpc } from './ipc.mjs';

const [framework, variant, mode] = process.argv.slice(2);
serveBenchmarkIpc(await startApp(framework, variant, { settle: mode !== 'unsettled' }));
