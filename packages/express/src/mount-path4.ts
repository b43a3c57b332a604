/**
 * Express 4 keeps only the compiled RegExp of a mount: the path of a router mounted before `metrics()` patched
 * `use()` is read back from it, and kept only if it compiles to the very same RegExp and keys.
 */

/** What is read of an Express 4 Layer here (`express/lib/router/layer.js`). */
export interface CompiledLayer {
  regexp: RegExp;
  keys?: Array<{ name: string | number }>;
}
type LayerClass = new (path: unknown, options: object, fn: () => void) => CompiledLayer;

/** path-to-regexp 0.1.x output, slashes unescaped: `(?:/([^/]+?))` (0.1.8+) or `(?:([^/]+?))` (0.1.7), `(.*)`, `\.` */
const TOKEN = /\(\?:(\/)?\(\[\^\/\]\+\?\)\)(\?)?|\(\.\*\)|\\\./g;

/** the handler of the layer compiled to check a path (never called) */
function compileOnly(): void {}

/** The path `layer` was mounted at (`use()` paths: not strict, not ending), or null if it cannot be told. */
export function recoverMountPath(layer: CompiledLayer): string | null {
  const { regexp, keys } = layer;
  if (!Array.isArray(keys)) return null;
  let s = regexp.source.replace(/\\\//g, '/');
  if (!s.startsWith('^') || !s.endsWith('(?=/|$)')) return null;
  s = s.slice(1, -'(?=/|$)'.length);
  s = s.endsWith('/?') ? s.slice(0, -2) : s.endsWith('?') ? s.slice(0, -1) : s;
  let k = 0;
  const path = s.replace(TOKEN, (token, slash?: string, optional?: string) => {
    if (token === '\\.') return '.';
    const key = keys[k++];
    if (token === '(.*)') return '*';
    return `${slash ?? ''}:${String(key?.name)}${optional ?? ''}`;
  });
  // left-over RegExp syntax (an array, a RegExp, a custom param pattern) would compile alike but read badly
  if (k !== keys.length || /[()[\]{}|^$\\+]/.test(path)) return null;
  try {
    const Layer = Object.getPrototypeOf(layer).constructor as LayerClass;
    const check = new Layer(
      path,
      { sensitive: !regexp.flags.includes('i'), strict: false, end: false },
      compileOnly,
    );
    const same =
      check.regexp.source === regexp.source &&
      check.regexp.flags === regexp.flags &&
      check.keys?.length === keys.length &&
      check.keys.every((key, i) => key.name === keys[i].name);
    return same ? path : null;
  } catch {
    return null;
  }
}
