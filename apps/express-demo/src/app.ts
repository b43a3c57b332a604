import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { metrics, type ExpressMetricsOptions } from '@meterline/express';
import { findUser, listRepos, listUsers, pause, searchUsers, shouldFail } from './data.js';

/**
 * The demo service: users, orgs with repos (a router mounted at a path with a param), one slow route, one route
 * that fails part of the time. The same service exists for Fastify and Koa (apps/fastify-demo, apps/koa-demo).
 */
export function createApp(
  options: ExpressMetricsOptions = { exclude: ['/health'], page: '/metrics/ui' },
): Express {
  const app = express();
  app.use(metrics(options));
  app.use(express.json());

  app.get('/health', (_req, res) => {
    res.send('ok');
  });

  const users = express.Router();
  users.get('/', (_req, res) => {
    res.json(listUsers());
  });
  users.get('/:id', (req, res) => {
    const user = findUser(req.params.id);
    if (user === undefined) res.status(404).json({ error: 'no such user' });
    else res.json(user);
  });
  users.post('/', (req, res) => {
    res.status(201).json({ id: 99, ...(req.body ?? {}) });
  });

  const repos = express.Router({ mergeParams: true });
  repos.get('/', (req, res) => {
    res.json(listRepos((req.params as Record<string, string>).org));
  });
  repos.get('/:repo', (req, res) => {
    const params = req.params as Record<string, string>;
    res.json({ org: params.org, repo: params.repo, stars: params.repo.length * 7 });
  });

  const api = express.Router();
  api.use('/users', users);
  api.use('/orgs/:org/repos', repos);
  api.get('/search', (req, res) => {
    res.json(searchUsers(String(req.query.q ?? '')));
  });
  api.get('/slow', async (_req, res) => {
    await pause();
    res.json({ slow: true });
  });
  api.get('/flaky', async (_req, res) => {
    if (shouldFail()) throw new Error('the flaky backend failed');
    res.json({ ok: true });
  });
  app.use('/api', api);
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: err.message });
  });
  return app;
}
