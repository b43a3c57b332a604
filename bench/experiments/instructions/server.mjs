// One benchmark server for run.mjs (run under Valgrind, no IPC): `node server.mjs <framework> <variant>` prints
// `PORT <n>` once it listens.
import { startApp } from '../../src/apps.mjs';

const [framework, variant] = process.argv.slice(2);
const server = await startApp(framework, variant);
console.log(`PORT ${server.address().port}`);
process.on('SIGTERM', () => process.exit(0));
