/**
 * The route template of a request, built from the mount paths it went through and the route that answered it.
 * Pure string work shared by both Express majors; the router patches only say what matched.
 */

/** A mount point on the way to the route: the request's baseUrl after it matched, and its template. */
export interface Mount {
  base: string;
  /** null: the mount's path is not known (Express 4 mounts registered before `metrics()`) */
  template: string | null;
}

/** A route or mount path as registered: a string, a RegExp (its source form) or an array (joined by `|`). */
export function patternString(pattern: unknown): string {
  if (typeof pattern === 'string') return pattern;
  if (pattern instanceof RegExp) return String(pattern);
  if (Array.isArray(pattern)) return pattern.map(patternString).join('|');
  return String(pattern);
}

/** `prefix` followed by `path`, with one slash between them and no trailing slash for a path of '/'. */
export function joinTemplate(prefix: string, path: string): string {
  if (prefix === '') return path;
  if (path === '/' || path === '') return prefix;
  if (prefix.endsWith('/')) return path.startsWith('/') ? prefix + path.slice(1) : prefix + path;
  // Express 4's catch-all `*` under a mount reads as everything below it
  return path.startsWith('*') ? prefix + '/' + path : prefix + path;
}

/** The template of a mount path: `/orgs/:org/` mounts like `/orgs/:org` (a RegExp is kept as written). */
export function mountPattern(pattern: unknown): string {
  if (Array.isArray(pattern)) return pattern.map(mountPattern).join('|');
  if (typeof pattern !== 'string') return patternString(pattern);
  return pattern.length > 1 && pattern.endsWith('/') ? pattern.slice(0, -1) : pattern;
}

/**
 * The request entered a mount whose baseUrl is now `base`: leave the mounts that are not its parents (siblings
 * the request went through before), then push it. `pattern` null: its path is unknown.
 */
export function enterMount(mounts: Mount[], base: string, pattern: string | null): void {
  while (mounts.length > 0) {
    const top = mounts[mounts.length - 1].base;
    if (base.length > top.length && base.startsWith(top) && base.charCodeAt(top.length) === 47 /* '/' */)
      break;
    mounts.pop();
  }
  const parent = mounts.length > 0 ? mounts[mounts.length - 1].template : '';
  mounts.push({ base, template: pattern === null || parent === null ? null : joinTemplate(parent, pattern) });
}

/**
 * The template of the mount the request is in when its baseUrl is `baseUrl` (drops the mounts it has left);
 * '' at the top level, null if a mount on the way has an unknown path.
 */
export function prefixAt(mounts: Mount[] | undefined, baseUrl: string): string | null {
  if (mounts === undefined || baseUrl === '') return '';
  while (mounts.length > 0) {
    const top = mounts[mounts.length - 1];
    if (top.base === baseUrl) return top.template;
    mounts.pop();
  }
  return '';
}

/** The template of a route with path `pattern` (the entry that matched, for arrays) under `prefix`. */
export function routeTemplate(prefix: string, pattern: unknown): string {
  return joinTemplate(prefix, patternString(pattern));
}
