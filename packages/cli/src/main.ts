#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseTopArgs, TOP_USAGE, UsageError } from './args.js';
import { topLive, topOnce } from './top.js';

// The `meterline` command: subcommands by name (only `top` so far).

const USAGE = `Usage: meterline <command> [options]

Commands:
  top <url>...   live per-route rate, errors and latency from Prometheus endpoints (meterline top --help)

  -v, --version  print the version`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '-v' || command === '--version') {
    console.log(version());
    return 0;
  }
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'top') {
    console.error(`meterline: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let options;
  try {
    options = parseTopArgs(rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`meterline top: ${err.message}\n\n${TOP_USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(TOP_USAGE);
    return 0;
  }
  return options.once ? topOnce(options) : topLive(options);
}

main(process.argv.slice(2)).then(
  // exit once what was written has been flushed (stdout may be a pipe)
  (code) => process.stdout.write('', () => process.exit(code)),
  (err: unknown) => {
    console.error(`meterline: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(1);
  },
);
