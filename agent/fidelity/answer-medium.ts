import { chmod, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AnswerMediumParsed } from '../protocol/index.js';
import type { VmAnswerMedium } from '../vm/index.js';
import { answerFiles, answerLabel } from './answer-files.js';
import { checkTool, type ToolRunner } from './run-tool.js';

const FAT_MIB = 4;

/**
 * Builds the answer medium in the job directory: an ISO 9660 image (xorriso; Joliet and Rock Ridge keep
 * names as given) or a FAT image (mtools, no mount). Throws ERR_BAD_REQUEST for bad files,
 * ERR_TOOL_MISSING when the tool is absent, ERR_ANSWER_MEDIUM when it fails.
 */
export async function buildAnswerMedium(a: AnswerMediumParsed, jobDir: string, run: ToolRunner, instanceId: string): Promise<VmAnswerMedium> {
  const files = answerFiles(a, instanceId);
  const label = answerLabel(a);
  if (a.format === 'iso9660') {
    const tree = join(jobDir, 'answer-tree');
    await rm(tree, { recursive: true, force: true });
    for (const f of files) {
      await mkdir(dirname(join(tree, f.path)), { recursive: true });
      await writeFile(join(tree, f.path), f.data, { mode: 0o600, flag: 'wx' }); // answer files hold passwords: never through a planted name
    }
    const path = join(jobDir, 'answer.iso');
    checkTool(await run('xorriso', ['-as', 'mkisofs', '-quiet', '-V', label, '-J', '-joliet-long', '-r', '-o', path, tree]), `building the ${label} answer ISO`, 'ERR_ANSWER_MEDIUM');
    await rm(tree, { recursive: true, force: true });
    await chmod(path, 0o600); // xorriso creates it 0644: it carries the answer files' secrets
    await stat(path);
    return { path, format: 'iso9660' };
  }
  const path = join(jobDir, 'answer.img');
  await rm(path, { force: true }); // mformat -C creates the image and refuses an existing one
  const sectors = String((FAT_MIB * 1024 * 1024) / 512);
  checkTool(await run('mformat', ['-i', path, '-C', '-T', sectors, '-v', label, '::']), `formatting the ${label} answer image`, 'ERR_ANSWER_MEDIUM');
  const dirs = [...new Set(files.flatMap((f) => parents(f.path)))];
  for (const d of dirs) checkTool(await run('mmd', ['-i', path, `::/${d}`]), `creating ${d} on the answer image`, 'ERR_ANSWER_MEDIUM');
  for (const f of files) {
    const tmp = join(jobDir, `answer-file-${files.indexOf(f)}`);
    await rm(tmp, { force: true }); // a leftover (or planted) name is removed, then created exclusively
    await writeFile(tmp, f.data, { mode: 0o600, flag: 'wx' });
    try {
      checkTool(await run('mcopy', ['-i', path, tmp, `::/${f.path}`]), `copying ${f.path} onto the answer image`, 'ERR_ANSWER_MEDIUM');
    } finally {
      await rm(tmp, { force: true });
    }
  }
  await chmod(path, 0o600); // mformat creates it per the umask: it carries the answer files' secrets
  return { path, format: 'vfat' };
}

// a/b/c -> ['a', 'a/b'] (the directories to create, parents first).
function parents(path: string): string[] {
  const parts = path.split('/').slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}
