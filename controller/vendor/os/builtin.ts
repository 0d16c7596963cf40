// The OS modules that ship with XEPA (more come as JSON files from the modules directory).
import { alpine } from './alpine.js';
import { debian } from './debian.js';
import { flatcar } from './flatcar.js';
import { freebsd } from './freebsd.js';
import { generic } from './generic.js';
import { nixos } from './nixos.js';
import type { OsModuleInput } from './schema.js';
import { talos } from './talos.js';

// Built-in modules, as data: loadModules validates them like any other.
export const BUILTIN_MODULES: readonly OsModuleInput[] = [nixos, talos, freebsd, flatcar, alpine, debian, generic];
