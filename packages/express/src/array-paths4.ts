/**
 * Express 4 compiles an array of paths into one RegExp and keeps no note of which entry matched: compile each
 * entry once per route or mount, the way Express compiled the whole, and find the one that matches.
 */
import type { Request } from 'express';
import { mountPattern } from './route-template.js';

/** per route or mount with an array of paths: one RegExp per entry */
const kEntries = Symbol.for('meterline.express.entries');

/** What is read of an Express 4 Layer here (`express/lib/router/layer.js`). */
export interface LayerOfPaths {
  route?: { path: unknown };
  regexp: RegExp;
  /** what the layer matched last (set by its match()) */
  path?: string;
  [kEntries]?: Entry[];
}
interface Entry {
  pattern: unknown;
  regexp: RegExp;
}
type LayerClass = new (path: unknown, options: object, fn: () => void) => { regexp: RegExp };

/** the handler of the layers compiled to match array entries (never called) */
function compileOnly(): void {}

/**
 * The entry of an array of paths that matched `matched` (what the layer matched), compiled once per route or
 * mount the way Express compiled the whole array.
 */
function matchedEntry(
  holder: { [kEntries]?: Entry[] },
  layer: LayerOfPaths,
  paths: unknown[],
  matched: string,
  end: boolean,
): unknown {
  let entries = holder[kEntries];
  if (entries === undefined) {
    const Layer = Object.getPrototypeOf(layer).constructor as LayerClass;
    const options = { sensitive: !layer.regexp.flags.includes('i'), strict: false, end };
    entries = holder[kEntries] = paths
      .flat(Infinity)
      .map((pattern) => ({ pattern, regexp: new Layer(pattern, options, compileOnly).regexp }));
  }
  for (let i = 0; i < entries.length; i++) {
    entries[i].regexp.lastIndex = 0;
    if (entries[i].regexp.test(matched)) return entries[i].pattern;
  }
  return paths;
}

export function routeEntry(layer: LayerOfPaths, req: Request): unknown {
  const route = layer.route as { path: unknown[]; [kEntries]?: Entry[] };
  // req.path: the path the route matched, relative to its router
  return matchedEntry(route, layer, route.path, req.path, true);
}

/**
 * The template of a mount registered with `path`; for arrays, the entry that matched. layer.path is what it matched
 * last: another request can overwrite it only while app.param() callbacks of this one wait (then the entry may be
 * another of the same array).
 */
export function mountEntry(layer: LayerOfPaths, path: unknown): string {
  return mountPattern(Array.isArray(path) ? matchedEntry(layer, layer, path, layer.path ?? '', false) : path);
}
