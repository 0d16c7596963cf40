// Dot paths into parsed JSON (`assets`, `build.id`, `0.tag_name`): how a JSON API module names its fields.

// The value at `path` in `doc` ('' and '.' are the document itself); undefined when any step is missing.
export function getPath(doc: unknown, path: string): unknown {
  if (path === '' || path === '.') return doc;
  let cur: unknown = doc;
  for (const step of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, step)) return undefined;
    cur = (cur as Record<string, unknown>)[step];
  }
  return cur;
}
