// One benchmark server in its own process: `node server.mjs <framework> <variant>` (variants.mjs), driven over IPC
// (ipc.mjs). It loads nothing but the app its variant builds.
import { startApp } from './apps.mjs';
import { serveBenchmarkIpc } from './ipc.mjs';

const [framework, variant] = process.argv.slice(2);
serveBenchmarkIpc(await startApp(framework, variant));
