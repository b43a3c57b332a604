import { createServer, type RequestListener } from 'node:http';
import { afterAll } from 'vitest';
import { listening, type RunningServer } from '@meterline/testing';

/**
 * The HTTP server a test file shares between its tests: `start(listener)` (in `beforeAll`, after the file's own setup)
 * serves `listener` on 127.0.0.1 and resolves with its base URL; it is closed, connections and all, after the tests.
 */
export function fileServer(): { start(listener: RequestListener): Promise<string> } {
  let running: RunningServer | undefined;
  afterAll(() => running?.close());
  return {
    async start(listener) {
      running = await listening(createServer(listener).listen(0, '127.0.0.1'));
      return running.url;
    },
  };
}
