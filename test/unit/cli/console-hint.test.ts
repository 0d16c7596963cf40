import { describe, expect, it } from 'vitest';
import { consoleHint } from '../../../controller/cli/console-hint.js';

describe('the console hint of xepa install', () => {
  it('gives the command that opens the screen from here, with the same pin and key directory', () => {
    const hint = consoleHint({ host: 'rescue.example:7443', job: 'j-1a2b', fingerprint: 'AB:CD', keyDir: '/home/op/keys' });
    expect(hint).toContain('xepa console rescue.example:7443 --vnc-port 5901 --job j-1a2b --fingerprint AB:CD --key-dir /home/op/keys');
    expect(hint).toContain('vncviewer 127.0.0.1::5901');
    expect(hint).toContain('xepa serve --agent rescue.example:7443 --fingerprint AB:CD --key-dir /home/op/keys --print-login');
  });

  it('leaves out the flags that were not given (the registry or XEPA_FINGERPRINT pin the console too)', () => {
    const hint = consoleHint({ host: 'node-7', job: 'j-9' });
    expect(hint).toContain('xepa console node-7 --vnc-port 5901 --job j-9   then');
    expect(hint).not.toMatch(/--fingerprint|--key-dir/);
  });

  it('quotes words a shell would split or expand', () => {
    const hint = consoleHint({ host: 'h', job: 'j', keyDir: "/tmp/my keys/it's" });
    expect(hint).toContain(`--key-dir '/tmp/my keys/it'\\''s'`);
  });
});
