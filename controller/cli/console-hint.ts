// What `xepa install` prints when a job starts: the commands that open the installer's screen from here, not
// the agent's VNC socket path (a file on the rescue system that only the agent may open).

/** The flags the console needs to reach the same agent the install reached. */
export interface ConsoleHintInput {
  host: string; // HOST as the user gave it (host[:port], wss://..., or a registered agent id)
  job: string;
  fingerprint?: string; // given on the command line: repeated, since the console verb pins the same way
  keyDir?: string;
}

// POSIX shell quoting, only where a word needs it.
function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./[\]-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

// The hint: a native viewer through `xepa console --vnc-port`, or the browser through `xepa serve`.
export function consoleHint(i: ConsoleHintInput): string {
  const pin = [...(i.fingerprint ? ['--fingerprint', i.fingerprint] : []), ...(i.keyDir ? ['--key-dir', i.keyDir] : [])];
  const args = (words: string[]): string => words.map(shellWord).join(' ');
  return [
    `the installer's screen: xepa ${args(['console', i.host, '--vnc-port', '5901', '--job', i.job, ...pin])}` +
      '   then: vncviewer 127.0.0.1::5901',
    `               or in a browser: xepa ${args(['serve', '--agent', i.host, ...pin, '--print-login'])}`,
  ].join('\n');
}
