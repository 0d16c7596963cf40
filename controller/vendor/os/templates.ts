// Template expansion for module strings: `{version}`, `{base.files}`, `{file:vmlinuz}`, optional `[[ ... ]]` parts.
import { XepaError } from '../../../agent/protocol/index.js';

// Values for a template; a key present with `undefined` is known but absent (its `[[ ]]` part is dropped).
export type TemplateVars = Record<string, string | undefined>;

const VAR = /\{([a-z]+(?:[.:][A-Za-z0-9._-]+)?)\}/g;

function replaceVars(text: string, vars: TemplateVars, where: string): { text: string; missing: boolean } {
  let missing = false;
  const out = text.replace(VAR, (_m, name: string) => {
    if (!(name in vars)) throw new XepaError('ERR_MODULE_INVALID', `${where}: unknown template value {${name}}`, { details: { template: text } });
    const v = vars[name];
    if (v === undefined) {
      missing = true;
      return '';
    }
    return v;
  });
  return { text: out, missing };
}

// Expands `template`; a `[[ ... ]]` part disappears when one of its values is undefined, elsewhere that is an error.
export function expandTemplate(template: string, vars: TemplateVars, where = 'template'): string {
  const withOptional = template.replace(/\[\[(.*?)\]\]/g, (_m, inner: string) => {
    const r = replaceVars(inner, vars, where);
    return r.missing ? '' : r.text;
  });
  const r = replaceVars(withOptional, vars, where);
  if (r.missing) throw new XepaError('ERR_MODULE_INVALID', `${where}: a value in "${template}" is unknown here (wrap that part in [[ ]] if optional)`);
  return r.text.replace(/\s{2,}/g, ' ').trim();
}

// The values a version gives a template: version, and major/minor/patch when it reads as numbers (a leading v is skipped).
export function versionVars(version: string): TemplateVars {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version);
  return { version, major: m?.[1], minor: m?.[2], patch: m?.[3] };
}

// The `{base.NAME}` values of a module's upstream bases (trailing slashes removed).
export function baseVars(bases: Record<string, string>): TemplateVars {
  const vars: TemplateVars = {};
  for (const [k, v] of Object.entries(bases)) vars[`base.${k}`] = v.replace(/\/+$/, '');
  return vars;
}
