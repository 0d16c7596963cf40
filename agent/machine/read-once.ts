import type { RootedFs } from '../host/index.js';

const READS = ['readText', 'readBytes', 'readLink', 'realpath', 'list', 'exists'] as const;

// A view of `fs` (a Sysfs or Procfs) that reads each path at most once: a snapshot's parts (disks, NICs, the
// controller's routes, the boot medium) ask for the same files and all get the one answer. Lists come back as
// copies; writes are not the snapshot's business and go to `fs` unchanged.
export function readOnce<T extends RootedFs>(fs: T): T {
  const cache = new Map<string, Promise<unknown>>();
  const view = Object.create(fs) as T;
  for (const name of READS) {
    const read = fs[name] as (rel: string) => Promise<unknown>;
    const once = (rel: string): Promise<unknown> => {
      const key = `${name}\0${rel}`;
      let answer = cache.get(key);
      if (answer === undefined) cache.set(key, (answer = read.call(view, rel)));
      return answer.then((v) => (Array.isArray(v) ? [...v] : v));
    };
    Object.defineProperty(view, name, { value: once });
  }
  return view;
}
