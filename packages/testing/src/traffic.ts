import type { IncomingMessage, ServerResponse } from 'node:http';

/** Core's `setRoute`, passed in: a test measures with the core it imports (sources or build). */
export type SetRoute = (req: IncomingMessage, template: string) => void;

/**
 * A service with known answers: /api/users at once, /api/flaky a 500 for one request in `failEvery` (200
 * otherwise), /api/slow after ~120 ms, anything else a 404 with no route.
 */
export function sampleService(
  setRoute: SetRoute,
  failEvery: number,
): (req: IncomingMessage, res: ServerResponse) => void {
  let flaky = 0;
  return (req, res) => {
    if (req.url === '/api/users') {
      setRoute(req, '/api/users');
      res.end('[]');
    } else if (req.url === '/api/flaky') {
      setRoute(req, '/api/flaky');
      res.statusCode = ++flaky % failEvery === 0 ? 500 : 200;
      res.end('flaky');
    } else if (req.url === '/api/slow') {
      setRoute(req, '/api/slow');
      setTimeout(() => res.end('slow'), 120);
    } else {
      res.statusCode = 404;
      res.end();
    }
  };
}

/**
 * Requests `url` + each path of `load` at its rate (requests per second), reading every answer and ignoring
 * failures, until the returned function is called.
 */
export function driveLoad(url: string, load: Record<string, number>): () => void {
  const timers = Object.entries(load).map(([path, rps]) =>
    setInterval(
      () =>
        void fetch(url + path).then(
          (r) => r.arrayBuffer(),
          () => undefined,
        ),
      1000 / rps,
    ),
  );
  return () => {
    for (const t of timers) clearInterval(t);
  };
}
