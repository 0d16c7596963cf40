// Loads OS modules: built-ins plus JSON files from a directory, each merged with its config override and validated
// by zod. A broken module becomes an entry in `errors` (and a log line); it never stops the others from loading.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { isENOENT } from '../../../agent/protocol/index.js';
import type { ModuleOverride } from '../config.js';
import { BUILTIN_MODULES } from './builtin.js';
import { OsModule } from './schema.js';

// A module that did not load: which one, from where, and why.
export interface ModuleError {
  module: string;
  source: string;
  message: string;
}

// The loaded catalog of modules.
export interface LoadedModules {
  modules: Map<string, OsModule>;
  errors: ModuleError[];
}

// What loadModules reads.
export interface LoadModulesOptions {
  builtin?: readonly unknown[];
  dir?: string | undefined; // *.json module files; one with a built-in's name replaces it
  overrides?: Record<string, ModuleOverride>;
  log?: (fields: Record<string, unknown>, msg: string) => void;
}

function merge(raw: unknown, o: ModuleOverride | undefined): unknown {
  if (!o || typeof raw !== 'object' || raw === null) return raw;
  const m = raw as Record<string, unknown>;
  const upstream = (m.upstream ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...m, upstream: { ...upstream, bases: { ...(upstream.bases as object | undefined), ...o.bases } } };
  if (o.promoteAt) out.promoteAt = o.promoteAt;
  if (o.validation) {
    const cur = (m.validation ?? {}) as Record<string, unknown>;
    out.validation = o.validation.kind === undefined || o.validation.kind === cur.kind ? { ...cur, ...o.validation } : o.validation;
  }
  return out;
}

function describe(issues: { path: (string | number)[]; message: string }[]): string {
  return issues.map((i) => `${i.path.join('.') || '(module)'}: ${i.message}`).join('; ');
}

async function readDir(dir: string, errors: ModuleError[]): Promise<{ source: string; raw: unknown }[]> {
  let names: string[];
  try {
    names = (await fsp.readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    if (isENOENT(err)) return [];
    errors.push({ module: '*', source: dir, message: `cannot list the modules directory: ${(err as Error).message}` });
    return [];
  }
  const out: { source: string; raw: unknown }[] = [];
  for (const n of names) {
    const source = join(dir, n);
    try {
      out.push({ source, raw: JSON.parse(await fsp.readFile(source, 'utf8')) });
    } catch (err) {
      errors.push({ module: n.replace(/\.json$/, ''), source, message: `not readable JSON: ${(err as Error).message}` });
    }
  }
  return out;
}

// Loads and validates every module; the result names each module that failed and why.
export async function loadModules(opts: LoadModulesOptions = {}): Promise<LoadedModules> {
  const errors: ModuleError[] = [];
  const candidates: { source: string; raw: unknown }[] = (opts.builtin ?? BUILTIN_MODULES).map((raw) => ({ source: 'builtin', raw }));
  if (opts.dir) candidates.push(...(await readDir(opts.dir, errors)));
  const modules = new Map<string, OsModule>();
  for (const c of candidates) {
    const name = typeof (c.raw as { name?: unknown })?.name === 'string' ? (c.raw as { name: string }).name : '?';
    const override = opts.overrides?.[name];
    const parsed = OsModule.safeParse(merge(c.raw, override));
    if (!parsed.success) {
      const message = describe(parsed.error.issues);
      errors.push({ module: name, source: c.source, message });
      opts.log?.({ module: name, source: c.source, err: message }, 'OS module rejected');
      continue;
    }
    if (override?.disabled) {
      modules.delete(name);
      continue;
    }
    modules.set(name, parsed.data);
  }
  for (const e of errors) if (modules.has(e.module)) modules.delete(e.module); // a broken replacement hides the built-in too
  return { modules, errors };
}
