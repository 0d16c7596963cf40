// Reads the import specifiers of the repository's source files and checks them against the layout rule of
// docs/layout.md (what controller/ may import from agent/ and build/, no cycles between controller capabilities).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';

/** One relative import: the importing file and the file it names, both relative to the repository root. */
export interface ImportEdge {
  from: string;
  to: string;
}

// Static imports and re-exports (`import ... from`, `export ... from`, side-effect `import '...'`) and dynamic
// `import('...')` with a literal specifier.
const SPECIFIER = /\b(?:import|export)\s+(?:type\s+)?[\w*${},\s]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

// The relative specifiers `source` imports (package imports are not the layout's business).
export function relativeImportsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec && spec.startsWith('.')) out.push(spec);
  }
  return out;
}

// Every .ts/.mjs file below `dir` (relative to `root`), node_modules and dist excluded.
export function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
      const p = posix.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'dist') walk(p);
      } else if (/\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

// The import edges of `files` (repository-relative paths), targets resolved to repository-relative paths.
export function importEdges(root: string, files: string[], read = (f: string) => readFileSync(join(root, f), 'utf8')): ImportEdge[] {
  return files.flatMap((from) =>
    relativeImportsOf(read(from)).map((spec) => ({ from, to: relative(root, join(root, dirname(from), spec)).split('\\').join('/') })),
  );
}

// The layout rule, one predicate per direction; each returns why an edge is refused, or undefined when it is allowed.
export const RULES: { name: string; check(e: ImportEdge): string | undefined }[] = [
  {
    name: 'controller/ imports of agent/ only agent/protocol/',
    check: (e) => (e.from.startsWith('controller/') && e.to.startsWith('agent/') && !e.to.startsWith('agent/protocol/') ? 'controller/ may import agent/protocol/ only' : undefined),
  },
  {
    name: 'controller/ imports of build/ only the host packages and the test ISO, from the demo and the deps verb',
    check: (e) => {
      if (!e.from.startsWith('controller/') || !e.to.startsWith('build/')) return undefined;
      if (!BUILD_ENTRIES.includes(e.to.replace(/\.js$/, '.ts'))) return `controller/ may import only ${BUILD_ENTRIES.join(' and ')} of build/`;
      if (!BUILD_IMPORTERS.some((p) => e.from.startsWith(p))) return `only ${BUILD_IMPORTERS.join(' and ')} may import build/`;
      return undefined;
    },
  },
  {
    name: 'build/ and alpine/ import of agent/ only agent/protocol/, and nothing of controller/',
    check: (e) => {
      if (!e.from.startsWith('build/') && !e.from.startsWith('alpine/')) return undefined;
      if (e.to.startsWith('agent/') && !e.to.startsWith('agent/protocol/')) return 'build/ and alpine/ may import agent/protocol/ only';
      if (e.to.startsWith('controller/')) return 'build/ and alpine/ sit below controller/';
      return undefined;
    },
  },
  {
    name: 'agent/ imports nothing of controller/, build/, alpine/, test/ or bench/',
    check: (e) => (e.from.startsWith('agent/') && /^(controller|build|alpine|test|bench)\//.test(e.to) ? 'the agent bundle stands alone' : undefined),
  },
];

/** The modules of build/ the controller ships (the `deps` and `demo` verbs run them). */
export const BUILD_ENTRIES = ['build/host-deps.ts', 'build/test-iso/index.ts'];
/** Where in controller/ they may be imported. */
export const BUILD_IMPORTERS = ['controller/demo/', 'controller/cli/commands/deps.ts'];

// Every edge some rule refuses, as "from -> to: why".
export function layoutViolations(edges: ImportEdge[]): string[] {
  return edges.flatMap((e) => RULES.flatMap((r) => {
    const why = r.check(e);
    return why ? [`${e.from} -> ${e.to}: ${why}`] : [];
  }));
}

// The capability of a controller file: its first folder below controller/ (controller/cli/commands/x.ts -> cli).
export function capabilityOf(file: string): string | undefined {
  const m = /^controller\/([^/]+)\//.exec(file);
  return m?.[1];
}

// The cycles between controller capabilities, each as "a -> b -> a" (empty when the capabilities form a DAG).
export function capabilityCycles(edges: ImportEdge[]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = capabilityOf(e.from);
    const b = capabilityOf(e.to);
    if (!a || !b || a === b) continue;
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(b);
  }
  const cycles = new Set<string>();
  const visit = (node: string, path: string[]): void => {
    const at = path.indexOf(node);
    if (at >= 0) {
      const loop = path.slice(at);
      const start = loop.indexOf([...loop].sort()[0]!); // one spelling per cycle: start at its smallest name
      cycles.add([...loop.slice(start), ...loop.slice(0, start), loop[start]!].join(' -> '));
      return;
    }
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
  };
  for (const node of graph.keys()) visit(node, []);
  return [...cycles].sort();
}
