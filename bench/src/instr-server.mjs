// One benchmark server for instructions.mjs (run under Valgrind, no IPC): `node instr-server.mjs <framework>
// <variant>` prints `PORT <n>` once it listens.
import { startApp } from './apps.mjs';

const [framework, variant] = process.argv.slice(2);
const server = await startApp(framework, variant);
console.log(`PORT ${server.address().port}`);
process.on('SIGTERM', () => process.exit(0));
