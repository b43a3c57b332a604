import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { metrics } from '@meterline/express';
import { CHUNKS, COMPRESSED, FIXED_BODY, listenRunning, type ConformanceApp } from '../scenarios.js';

export const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The conformance app on the Express the project installed, named `name`. The majors differ only in how an async
 * handler fails, so `/throw-async` is theirs to give.
 */
export function expressConformanceApp(name: string, throwAsync: RequestHandler): ConformanceApp {
  return {
    name,
    differences: { optionsStatus: 200, optionsRoute: undefined, unknownMethodStatus: 404 },
    async start() {
      const app = express();
      app.use(metrics({ exclude: ['/health'] }));
      app.get('/static', (_req, res) => {
        res.send('static');
      });
      app.get('/items/:id', (req, res) => {
        res.json({ id: req.params.id });
      });
      const orgs = express.Router({ mergeParams: true });
      orgs.get('/', (_req, res) => {
        res.send('org');
      });
      orgs.get('/repos/:repo', (_req, res) => {
        res.send('repo');
      });
      const v1 = express.Router();
      v1.use('/orgs/:org', orgs);
      app.use('/api/v1', v1);
      app.get('/status/:code', (req, res) => {
        res.status(Number(req.params.code)).send('status');
      });
      app.get('/throw-sync', () => {
        throw new TypeError('sync');
      });
      app.get('/throw-async', throwAsync);
      app.get('/slow', async (_req, res) => {
        await wait(300);
        res.send('slow');
      });
      app.get('/stream-slow', async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first');
        await wait(300);
        res.end('rest');
      });
      app.post('/echo', express.raw({ type: '*/*', limit: '1mb' }), (req, res) => {
        res.type('application/octet-stream').send(req.body);
      });
      app.get('/fixed', (_req, res) => {
        res.send(FIXED_BODY);
      });
      app.get('/chunked', async (_req, res) => {
        for (const c of CHUNKS) {
          res.write(c);
          await wait(1);
        }
        res.end();
      });
      app.get('/compressed', (_req, res) => {
        res.set('content-encoding', 'gzip').type('text/plain').send(COMPRESSED);
      });
      app.get('/health', (_req, res) => {
        res.send('ok');
      });
      app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
        res.status(500).send('error: ' + err.message);
      });
      return listenRunning((port, host, cb) => app.listen(port, host, cb));
    },
  };
}
