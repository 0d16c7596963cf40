import { describe, expect, it } from 'vitest';
import { REPO } from '../../support/paths.js';
import { capabilityCycles, importEdges, layoutViolations, relativeImportsOf, sourceFiles, type ImportEdge } from './import-rules.js';

// The rule is written once, in docs/layout.md; this test reads every source file and holds the tree to it.
const files = ['agent', 'controller', 'build', 'alpine'].flatMap((d) => sourceFiles(REPO, d));
const edges = importEdges(REPO, files);

describe('the layout rule (docs/layout.md)', () => {
  it('reads the real tree: every folder, and the imports across the controller/agent line', () => {
    for (const dir of ['agent/', 'controller/', 'build/', 'alpine/']) expect(files.some((f) => f.startsWith(dir)), dir).toBe(true);
    expect(files.length).toBeGreaterThan(200);
    expect(edges.some((e) => e.from.startsWith('controller/') && e.to === 'agent/protocol/index.js')).toBe(true);
  });

  it('holds: controller/ imports only agent/protocol/ of the agent, and build/ only where it ships it', () => {
    expect(layoutViolations(edges)).toEqual([]);
  });

  it('holds: no two capabilities of controller/ import each other, directly or through others', () => {
    expect(capabilityCycles(edges)).toEqual([]);
  });
});

describe('the import scanner', () => {
  it('finds static, re-exported, multi-line, side-effect and dynamic imports, and leaves packages out', () => {
    const src = [
      "import { a } from '../../agent/vm/index.js';",
      "import type { B } from './b.js';",
      'import {\n  c,\n  d,\n} from "../c.js";',
      "export * from './e.js';",
      "export { f } from './f.js';",
      "import './side-effect.js';",
      "const g = await import('../g.js');",
      "import { z } from 'zod';",
    ].join('\n');
    expect(relativeImportsOf(src)).toEqual(['../../agent/vm/index.js', './b.js', '../c.js', './e.js', './f.js', './side-effect.js', '../g.js']);
  });

  it('refuses each kind of crossing the rule forbids', () => {
    const bad: ImportEdge[] = [
      { from: 'controller/cli/main.ts', to: 'agent/version.js' },
      { from: 'controller/web/pages.ts', to: 'build/host-deps.js' },
      { from: 'controller/cli/commands/deps.ts', to: 'build/bundle.mjs' },
      { from: 'build/test-iso/index.ts', to: 'agent/vm/index.js' },
      { from: 'alpine/apkovl.ts', to: 'controller/auth/index.js' },
      { from: 'agent/main.ts', to: 'controller/demo/index.js' },
    ];
    expect(layoutViolations(bad)).toHaveLength(bad.length);
    const good: ImportEdge[] = [
      { from: 'controller/cli/main.ts', to: 'agent/protocol/index.js' },
      { from: 'controller/demo/demo.ts', to: 'build/test-iso/index.js' },
      { from: 'controller/cli/commands/deps.ts', to: 'build/host-deps.js' },
      { from: 'build/host-deps.ts', to: 'agent/protocol/errors.js' },
    ];
    expect(layoutViolations(good)).toEqual([]);
  });

  it('names a cycle between capabilities, however long', () => {
    expect(capabilityCycles([
      { from: 'controller/demo/demo.ts', to: 'controller/cli/args.js' },
      { from: 'controller/cli/main.ts', to: 'controller/demo/index.js' },
    ])).toEqual(['cli -> demo -> cli']);
    expect(capabilityCycles([
      { from: 'controller/a/x.ts', to: 'controller/b/index.js' },
      { from: 'controller/b/y.ts', to: 'controller/c/index.js' },
      { from: 'controller/c/z.ts', to: 'controller/a/index.js' },
      { from: 'controller/c/z.ts', to: 'controller/d/index.js' },
    ])).toEqual(['a -> b -> c -> a']);
  });
});
