/**
 * Reading mount paths back from Express 4's own compiled layers. Needs Express 4's Layer: skipped against the
 * workspace's Express 5, run in a clean project with express@4 by `npm run test:express4`.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { recoverMountPath, type CompiledLayer } from '../src/mount-path4.js';

const require = createRequire(import.meta.url);
const major = Number((require('express/package.json') as { version: string }).version[0]);

describe.runIf(major === 4)('express 4: mount paths read back from compiled layers', () => {
  // the options Express 4's router.use() compiles with (Express 4's Layer is loaded only when the tests run)
  const mounted = (path: unknown, sensitive = false) => {
    const Layer = require('express/lib/router/layer.js') as new (
      p: unknown,
      o: object,
      f: () => void,
    ) => CompiledLayer;
    return new Layer(path, { sensitive, strict: false, end: false }, () => undefined);
  };

  it('gives back paths with params, optional params, dots and stars as registered', () => {
    for (const path of [
      '/api',
      '/api/v1',
      '/orgs/:org',
      '/orgs/:org/repos/:repo',
      '/a.b/:x?',
      '/files/*',
      '/x/:a/y/:b?',
      '*',
      '',
    ]) {
      expect(recoverMountPath(mounted(path))).toBe(path);
    }
    expect(recoverMountPath(mounted('/Case/:id', true))).toBe('/Case/:id');
  });

  it('gives a path that compiles to the same RegExp where two paths do (a trailing slash)', () => {
    expect(recoverMountPath(mounted('/orgs/:org/'))).toMatch(/^\/orgs\/:org\/?$/);
    expect(['', '/']).toContain(recoverMountPath(mounted('/')));
  });

  it('gives up (null) where the RegExp does not tell the path: custom params, arrays, RegExps', () => {
    expect(recoverMountPath(mounted('/old/:id(\\d+)'))).toBeNull();
    expect(recoverMountPath(mounted(['/a', '/b']))).toBeNull();
    expect(recoverMountPath(mounted(/^\/re/))).toBeNull();
    expect(recoverMountPath({ regexp: /^\/x\/?(?=\/|$)/i })).toBeNull();
  });
});
