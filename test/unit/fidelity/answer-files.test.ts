import { describe, expect, it } from 'vitest';
import { answerFiles, answerLabel } from '../../../agent/fidelity/index.js';
import { AnswerMedium, InstallRequest, MAX_ANSWER_BYTES } from '../../../agent/protocol/index.js';
import { codeOf } from '../../support/error-code.js';

const medium = (m: object) => AnswerMedium.parse(m);


describe('answer media', () => {
  it('labels each installer family\'s medium the way that installer looks for it', () => {
    expect(answerLabel(medium({ kind: 'cloud-init', files: [{ path: 'user-data', content: '' }] }))).toBe('CIDATA');
    expect(answerLabel(medium({ kind: 'kickstart', files: [{ path: 'ks.cfg', content: '' }] }))).toBe('OEMDRV');
    expect(answerLabel(medium({ kind: 'proxmox', files: [{ path: 'answer.toml', content: '' }] }))).toBe('PROXMOX-AIS');
    expect(answerLabel(medium({ kind: 'custom', label: 'mylabel', files: [{ path: 'x', content: '' }] }))).toBe('MYLABEL');
  });

  it('adds the meta-data cloud-init needs when the user gave only user-data', () => {
    const files = answerFiles(medium({ kind: 'cloud-init', files: [{ path: 'user-data', content: '#cloud-config\n' }] }), 'xepa-job-1');
    expect(files.map((f) => [f.path, f.data.toString()])).toEqual([['user-data', '#cloud-config\n'], ['meta-data', 'instance-id: xepa-job-1\n']]);
  });

  it('decodes base64 content', () => {
    const files = answerFiles(medium({ files: [{ path: 'blob.bin', content: Buffer.from([0, 255, 1]).toString('base64'), encoding: 'base64' }] }));
    expect([...files[0]!.data]).toEqual([0, 255, 1]);
  });

  it('refuses a medium without the file its installer reads', () => {
    expect(codeOf(() => answerFiles(medium({ kind: 'autounattend', files: [{ path: 'unattend.xml', content: '<x/>' }] })))).toBe('ERR_BAD_REQUEST');
  });

  it('refuses the same path twice, also in another case (FAT and Joliet ignore case)', () => {
    expect(codeOf(() => answerFiles(medium({ files: [{ path: 'a.cfg', content: '1' }, { path: 'A.CFG', content: '2' }] })))).toBe('ERR_BAD_REQUEST');
  });

  it('refuses more content than fits in a request', () => {
    const big = 'x'.repeat(MAX_ANSWER_BYTES / 2 + 1);
    expect(codeOf(() => answerFiles(medium({ files: [{ path: 'a', content: big }, { path: 'b', content: big }] })))).toBe('ERR_BAD_REQUEST');
  });

  it('refuses a FAT label longer than 11 characters', () => {
    expect(codeOf(() => answerLabel(medium({ kind: 'proxmox', format: 'vfat', label: 'PROXMOX-AIS-X', files: [{ path: 'answer.toml', content: '' }] })))).toBe('ERR_BAD_REQUEST');
  });

  it('rejects paths that climb out of the medium at the request\'s edge', () => {
    const r = InstallRequest.safeParse({ iso: { url: 'https://m/a.iso', sha256: 'a'.repeat(64) }, disks: [{ path: '/dev/sda' }], answer: { files: [{ path: '../etc/passwd', content: '' }] } });
    expect(r.success).toBe(false);
  });
});
