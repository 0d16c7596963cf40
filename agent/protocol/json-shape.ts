// Bounds on the shape of a parsed JSON message, checked before any schema sees it: a 1 MiB message holding a
// 500 000-element array makes zod build one issue per element (seconds of CPU and hundreds of MB), and every
// legitimate message of the method table is small and shallow.
export interface JsonShapeLimits {
  maxDepth: number; // nesting of arrays and objects
  maxArray: number; // elements of one array
  maxKeys: number; // keys of one object
  maxNodes: number; // values in the whole message
}

// Far above anything the method table accepts (disks <= 64, nics <= 16, depth < 6), far below harm.
export const CONTROL_JSON_LIMITS: JsonShapeLimits = { maxDepth: 32, maxArray: 1024, maxKeys: 256, maxNodes: 50_000 };

// Says what is wrong with the shape of `value` (first problem found), or undefined when it is within limits.
// Iterative: a deeply nested value cannot overflow the stack here.
export function jsonShapeProblem(value: unknown, limits: JsonShapeLimits = CONTROL_JSON_LIMITS): string | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  let nodes = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (++nodes > limits.maxNodes) return `more than ${limits.maxNodes} values`;
    if (v === null || typeof v !== 'object') continue;
    if (depth > limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`;
    if (Array.isArray(v)) {
      if (v.length > limits.maxArray) return `an array of ${v.length} elements (at most ${limits.maxArray})`;
      for (const x of v) stack.push([x, depth + 1]);
    } else {
      const keys = Object.keys(v);
      if (keys.length > limits.maxKeys) return `an object with ${keys.length} keys (at most ${limits.maxKeys})`;
      for (const k of keys) stack.push([(v as Record<string, unknown>)[k], depth + 1]);
    }
  }
  return undefined;
}
