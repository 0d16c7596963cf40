import { XepaError } from '../../../agent/protocol/index.js';
import {
  addGivenRelease, buildCatalog, openVendor, parseOsSpec, promote, recordValidation, resolveRelease, rollback, updateOs,
  validateAndPromote, verifyStore, type OsModule, type ReleaseIndex, type UpdateProgress, type UpdateResult, type VendorContext,
} from '../../vendor/index.js';
import { parse } from '../args.js';
import { line, type Output } from '../output.js';
import { renderCatalog, renderResults, renderVerify } from './vendor-render.js';

// The help text of `xepa vendor`.
export const VENDOR_USAGE = `usage: xepa vendor SUBCOMMAND [--store DIR] [--vendor-config FILE] [--json]
  list [OS]                         the catalog: OSes, channels (stable, candidate, previous), releases
  update [OS]...                    poll upstream; new releases -> candidate (verified) -> validation -> stable
         [--retry-rejected] [--revalidate] [--verbose]
  add OS@VERSION --url URL (--sha256 HEX | --sums-url URL)
                                    add a release by hand (the generic ISO), then validate it like the updater
  validate OS@VERSION               run the validation of a candidate again; promotes it when it passes
  promote OS@VERSION                make a candidate stable by hand (for modules validated by hand)
  rollback OS                       put the previous stable back (the current one is withdrawn)
  verify [OS]                       recompute the digest of every stored file
The store is --store, else the config's "store", else $XEPA_STORE, else ~/.local/share/xepa/store; the config is
--vendor-config, else $XEPA_VENDOR_CONFIG, else $XEPA_HOME/vendor.json. Details: docs/vendor-services.md.
Exit status: 0 when nothing failed; 1 when a release was rejected, failed validation or could not be processed.`;

const OPTIONS = {
  store: { type: 'string' },
  'vendor-config': { type: 'string' },
  json: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  'retry-rejected': { type: 'boolean', default: false },
  revalidate: { type: 'boolean', default: false },
  url: { type: 'string' },
  sha256: { type: 'string' },
  'sums-url': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function moduleOf(ctx: VendorContext, os: string): OsModule {
  const m = ctx.loaded.modules.get(os);
  if (m) return m;
  const broken = ctx.loaded.errors.find((e) => e.module === os);
  throw new XepaError(broken ? 'ERR_MODULE_INVALID' : 'ERR_NOT_FOUND', broken ? `OS module ${os} is broken: ${broken.message}` : `no OS module ${os} (known: ${[...ctx.loaded.modules.keys()].join(', ')})`);
}

function versionOf(spec: string | undefined, what: string): { os: string; version: string } {
  const { os, ref } = parseOsSpec(spec ?? '');
  if (!spec?.includes('@') || ['stable', 'candidate', 'previous'].includes(ref)) throw new XepaError('ERR_BAD_REQUEST', `${what} needs OS@VERSION (a version, not a channel)`);
  return { os, version: ref };
}

// `xepa vendor ...`: the catalog, the updater, manual releases, promotion, rollback and verification.
export async function vendorCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  const [sub, ...args] = positionals;
  if (values.help || !sub) return line(values.help ? o.out : o.err, VENDOR_USAGE), values.help ? 0 : 2;
  const ctx = await openVendor({ storeDir: values.store, configPath: values['vendor-config'] });
  for (const e of ctx.loaded.errors) line(o.err, `warning: OS module ${e.module} (${e.source}) not loaded: ${e.message}`);
  const progress = (p: UpdateProgress): void => {
    if (values.json) line(o.err, JSON.stringify(p));
    else line(o.err, `[${p.os}${p.version ? ` ${p.version}` : ''}] ${p.step}: ${p.message}`);
  };
  const deps = { store: ctx.store, progress, publicUrl: ctx.config.publicUrl, ...(values.verbose ? { serialLog: (os: string, l: string) => line(o.err, `  ${os} serial | ${l}`) } : {}) };
  const finish = (results: UpdateResult[]): number => {
    line(o.out, values.json ? JSON.stringify(results) : renderResults(results));
    return results.some((r) => r.action === 'failed' || r.action === 'rejected' || r.code === 'ERR_VALIDATION_FAILED') ? 1 : 0;
  };
  const mutate = async <T>(work: () => Promise<T>): Promise<T> => {
    const release = await ctx.store.lock();
    try {
      return await work();
    } finally {
      await release();
    }
  };

  switch (sub) {
    case 'list': {
      const mods = args[0] ? [moduleOf(ctx, args[0])] : [...ctx.loaded.modules.values()];
      const indexes = new Map<string, ReleaseIndex | Error>();
      for (const m of mods) indexes.set(m.name, await ctx.store.readIndex(m.name).catch((err: Error) => err));
      const doc = buildCatalog(mods, indexes, ctx.loaded.errors, ctx.config.publicUrl ?? 'http://127.0.0.1:8080', ctx.store.clock());
      line(o.out, values.json ? JSON.stringify(doc, null, 2) : renderCatalog(doc, Boolean(args[0])));
      return 0;
    }
    case 'update': {
      const mods = args.length ? args.map((a) => moduleOf(ctx, a)) : [...ctx.loaded.modules.values()];
      return finish(await mutate(async () => {
        const out: UpdateResult[] = [];
        for (const m of mods) out.push(await updateOs(m, deps, { retryRejected: values['retry-rejected'], revalidate: values.revalidate }));
        return out;
      }));
    }
    case 'add': {
      const { os, version } = versionOf(args[0], 'add');
      const m = moduleOf(ctx, os);
      if (!values.url) throw new XepaError('ERR_BAD_REQUEST', `add needs --url\n${VENDOR_USAGE}`);
      const iso = m.files.find((f) => f.from.kind === 'given');
      if (!iso || m.files.length !== 1) throw new XepaError('ERR_BAD_REQUEST', `${os} takes its releases from upstream (xepa vendor update ${os}), not by hand`);
      const given = { [iso.name]: { url: values.url, ...(values.sha256 ? { sha256: values.sha256 } : {}), ...(values['sums-url'] ? { sumsUrl: values['sums-url'] } : {}) } };
      return finish([await mutate(() => addGivenRelease(m, version, given, deps))]);
    }
    case 'validate': {
      const { os, version } = versionOf(args[0], 'validate');
      const m = moduleOf(ctx, os);
      return finish([await mutate(async () => {
        const r = resolveRelease(await ctx.store.readIndex(os), version);
        if (!r || r.status !== 'candidate') throw new XepaError('ERR_BAD_REQUEST', `${os} ${version} is not a candidate (${r?.status ?? 'not in the store'})`);
        return validateAndPromote(m, r, deps);
      })]);
    }
    case 'promote': {
      const { os, version } = versionOf(args[0], 'promote');
      moduleOf(ctx, os);
      const idx = await mutate(async () => {
        const r = resolveRelease(await ctx.store.readIndex(os), version);
        if (!r || r.status !== 'candidate') throw new XepaError('ERR_BAD_REQUEST', `${os} ${version} is not a candidate (${r?.status ?? 'not in the store'})`);
        const now = ctx.store.clock();
        return ctx.store.updateIndex(os, (i) => promote(recordValidation(i, version, { status: 'passed', kind: 'manual', at: now.toISOString(), reason: 'promoted by hand' }, now), version, now));
      });
      line(o.out, values.json ? JSON.stringify({ os, stable: idx.stable, previous: idx.history[0] }) : `${os}: stable is now ${idx.stable}${idx.history[0] ? ` (previous: ${idx.history[0]})` : ''}`);
      return 0;
    }
    case 'rollback': {
      const os = args[0];
      if (!os) throw new XepaError('ERR_BAD_REQUEST', `rollback needs an OS\n${VENDOR_USAGE}`);
      moduleOf(ctx, os);
      const r = await mutate(async () => {
        const res = rollback(await ctx.store.readIndex(os), ctx.store.clock());
        await ctx.store.writeIndex(res.index);
        return res;
      });
      line(o.out, values.json ? JSON.stringify({ os, from: r.from, to: r.to }) : `${os}: stable rolled back from ${r.from} to ${r.to} (${r.from} is withdrawn)`);
      return 0;
    }
    case 'verify': {
      const results = await verifyStore(ctx.store, args[0]);
      line(o.out, values.json ? JSON.stringify(results) : renderVerify(results));
      return results.every((r) => r.ok) ? 0 : 1;
    }
    default:
      line(o.err, `xepa vendor: unknown subcommand "${sub}"\n${VENDOR_USAGE}`);
      return 2;
  }
}
