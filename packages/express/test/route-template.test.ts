import { describe, expect, it } from 'vitest';
import {
  enterMount,
  joinTemplate,
  mountPattern,
  patternString,
  prefixAt,
  routeTemplate,
  type Mount,
} from '../src/route-template.js';

describe('patternString', () => {
  it('keeps strings, writes RegExps in their source form and joins arrays with |', () => {
    expect(patternString('/users/:id')).toBe('/users/:id');
    expect(patternString('*')).toBe('*');
    expect(patternString(/^\/files\/(\d+)$/)).toBe('/^\\/files\\/(\\d+)$/');
    expect(patternString(/abc/i)).toBe('/abc/i');
    expect(patternString(['/a', '/b'])).toBe('/a|/b');
    expect(patternString(['/a', ['/b', /c/]])).toBe('/a|/b|/c/');
    expect(patternString(42)).toBe('42');
  });
});

describe('joinTemplate', () => {
  it('joins a prefix and a path with exactly one slash', () => {
    expect(joinTemplate('', '/users')).toBe('/users');
    expect(joinTemplate('/api', '/users')).toBe('/api/users');
    expect(joinTemplate('/api/', '/users')).toBe('/api/users');
    expect(joinTemplate('/api', 'users')).toBe('/apiusers');
    // Express 4's catch-all under a mount
    expect(joinTemplate('/api', '*')).toBe('/api/*');
    expect(joinTemplate('/api/', '*')).toBe('/api/*');
    expect(joinTemplate('', '*')).toBe('*');
  });

  it('gives the prefix itself for a route at the root of its router', () => {
    expect(joinTemplate('/api/v1/orgs/:org', '/')).toBe('/api/v1/orgs/:org');
    expect(joinTemplate('/api', '')).toBe('/api');
    expect(joinTemplate('', '/')).toBe('/');
  });
});

describe('mountPattern', () => {
  it('drops one trailing slash, never the root', () => {
    expect(mountPattern('/orgs/:org/')).toBe('/orgs/:org');
    expect(mountPattern('/orgs/:org')).toBe('/orgs/:org');
    expect(mountPattern('/')).toBe('/');
    expect(mountPattern(['/a', '/b/'])).toBe('/a|/b');
    expect(mountPattern(/^\/x\//)).toBe('/^\\/x\\//');
  });
});

describe('routeTemplate', () => {
  it('joins the prefix and the pattern string', () => {
    expect(routeTemplate('', '/users/:id')).toBe('/users/:id');
    expect(routeTemplate('/api', /^\/files\/(\d+)$/)).toBe('/api/^\\/files\\/(\\d+)$/');
    expect(routeTemplate('/api', ['/a', '/b'])).toBe('/api/a|/b');
    expect(routeTemplate('/api', '/')).toBe('/api');
  });
});

describe('the mount stack', () => {
  it('nests mounts by baseUrl and finds the prefix of the current one', () => {
    const mounts: Mount[] = [];
    enterMount(mounts, '/api/v1', '/api/v1');
    enterMount(mounts, '/api/v1/orgs/acme', '/orgs/:org');
    enterMount(mounts, '/api/v1/orgs/acme/repos', '/repos');
    expect(mounts.map((m) => m.template)).toEqual([
      '/api/v1',
      '/api/v1/orgs/:org',
      '/api/v1/orgs/:org/repos',
    ]);
    expect(prefixAt(mounts, '/api/v1/orgs/acme/repos')).toBe('/api/v1/orgs/:org/repos');
  });

  it('pops the mounts the request has left when it comes back out to a parent', () => {
    const mounts: Mount[] = [];
    enterMount(mounts, '/api', '/api');
    enterMount(mounts, '/api/orgs/acme', '/orgs/:org');
    expect(prefixAt(mounts, '/api')).toBe('/api');
    expect(mounts).toHaveLength(1);
  });

  it('leaves a sibling mount the request went through without a match', () => {
    const mounts: Mount[] = [];
    enterMount(mounts, '/api/v1', '/api/v1');
    enterMount(mounts, '/api/v1/other', '/other');
    // back in /api/v1, then into a sibling: /other is no parent of /users
    enterMount(mounts, '/api/v1/users', '/users');
    expect(mounts.map((m) => m.base)).toEqual(['/api/v1', '/api/v1/users']);
    expect(prefixAt(mounts, '/api/v1/users')).toBe('/api/v1/users');
  });

  it('tells a parent from a mount that only starts with the same letters', () => {
    const mounts: Mount[] = [];
    enterMount(mounts, '/api', '/api');
    enterMount(mounts, '/apiary', '/apiary');
    expect(mounts.map((m) => m.template)).toEqual(['/apiary']);
  });

  it('re-enters the same router mounted twice (two layers, same baseUrl) without nesting it in itself', () => {
    const mounts: Mount[] = [];
    enterMount(mounts, '/api/v1', '/api/v1');
    enterMount(mounts, '/api/v1', '/api/v1');
    expect(mounts.map((m) => m.template)).toEqual(['/api/v1']);
  });

  it('gives no prefix at the top level or when the baseUrl is not a known mount', () => {
    expect(prefixAt(undefined, '/api')).toBe('');
    const mounts: Mount[] = [];
    enterMount(mounts, '/api', '/api');
    expect(prefixAt(mounts, '')).toBe('');
    expect(prefixAt(mounts, '/elsewhere')).toBe('');
    expect(mounts).toHaveLength(0);
  });

  it('makes every prefix under a mount of unknown path unknown (null), and known again beside it', () => {
    const mounts: Mount[] = [];
    enterMount(mounts, '/legacy', null);
    enterMount(mounts, '/legacy/orgs/acme', '/orgs/:org');
    expect(prefixAt(mounts, '/legacy/orgs/acme')).toBeNull();
    expect(prefixAt(mounts, '/legacy')).toBeNull();
    enterMount(mounts, '/api', '/api');
    expect(prefixAt(mounts, '/api')).toBe('/api');
  });
});
