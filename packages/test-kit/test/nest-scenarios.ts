/**
 * What a NestJS app adds to the conformance table (apps/nest-module.ts), as entries of the same kind: routes
 * under a global prefix and URI versions, and exceptions answered by Nest's exception filter, which the adapter
 * never sees unless an interceptor hands them over.
 */
import { DURATION, type ConformanceApp } from './conformance-app.js';
import { describeScenarios } from './scenario-runner.js';
import type { Scenario } from './scenario-table.js';

const users = '/api/v1/users/:id';
const recorded = '/api/v1/recorded/:id';

export const NEST_SCENARIOS: Scenario[] = [
  {
    name: 'the templates Nest registers, global prefix and URI version included, reach http.route',
    steps: [
      { path: '/api/v1/users/{i}', times: 2, answer: { status: 200 } },
      { path: '/api/v2/users/7', answer: { status: 200 } },
      // no such version, no prefix: Nest's 404, without a route
      { path: '/api/v3/users/7', answer: { status: 404 } },
      { path: '/users/7', answer: { status: 404 } },
    ],
    expect: [
      { metric: DURATION, series: { method: 'GET', route: users, status: 200 }, count: 2 },
      { metric: DURATION, series: { method: 'GET', route: '/api/v2/users/:id', status: 200 }, count: 1 },
      { metric: DURATION, series: { method: 'GET', status: 404 }, count: 2 },
    ],
    scrapeExcludes: [/http_route="[^"]*(\/users\/\d|\/v3\/)/],
  },
  {
    name: "exceptions answered by Nest's filter: 4xx without error.type, 5xx with the status code",
    steps: [
      { path: '/api/v1/users/missing', answer: { status: 404 } },
      { path: '/api/v1/users/busy', answer: { status: 503 } },
      { path: '/api/v1/users/gone', answer: { status: 500 } },
    ],
    expect: [
      { metric: DURATION, series: { method: 'GET', route: users, status: 404 }, count: 1 },
      { metric: DURATION, series: { method: 'GET', route: users, status: 503 }, count: 1 },
      { metric: DURATION, series: { method: 'GET', route: users, status: 500 }, count: 1 },
    ],
    scrapeExcludes: ['UserGoneError'],
  },
  {
    name: 'an interceptor that hands the exception over before the filter: error.type is its class',
    steps: [
      { path: '/api/v1/recorded/missing', answer: { status: 404 } },
      { path: '/api/v1/recorded/busy', answer: { status: 503 } },
      { path: '/api/v1/recorded/gone', times: 2, answer: { status: 500 } },
    ],
    expect: [
      { metric: DURATION, series: { method: 'GET', route: recorded, status: 404 }, count: 1 },
      { metric: DURATION, series: { method: 'GET', route: recorded, status: 503, error: { type: 'HttpException' } }, count: 1 },
      { metric: DURATION, series: { method: 'GET', route: recorded, status: 500, error: { type: 'UserGoneError' } }, count: 2 },
    ],
  },
];

export function nestScenarios(app: ConformanceApp): void {
  describeScenarios(`${app.name}: NestJS routes and exceptions`, app, NEST_SCENARIOS);
}
