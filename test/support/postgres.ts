import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

// A throwaway PostgreSQL cluster for tests and benchmarks: Debian's postgresql-15 binaries (by their path, never
// whatever pg_ctl is first on PATH), initdb in a temporary directory, a unix socket in that directory only and no
// TCP. PostgreSQL refuses to run as root, so as root the cluster runs as the system user xepa-pg (created if
// missing); as any other user it runs as that user.

// Debian's PostgreSQL 15 server binaries (package postgresql-15, TEST_PACKAGES in build/host-deps.ts).
export const PG_BIN = '/usr/lib/postgresql/15/bin';
export const PG_USER = 'xepa-pg';
const PORT = 5432; // names the socket file (.s.PGSQL.5432) in the private directory; no TCP listener

/** A running cluster. */
export interface PgCluster {
  dir: string; // the socket directory (and the data directory's parent)
  // pg connection settings for one database of the cluster
  connection(database: string): pg.PoolConfig;
  // a connection string for the same (postgresql:///db?host=DIR)
  url(database: string): string;
  // creates a fresh, empty database and returns its name
  createDatabase(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Options of startPostgres. */
export interface StartPostgresOptions {
  durable?: boolean; // fsync and synchronous commit as in production (benchmarks); default off (tests)
  maxConnections?: number; // default 100
}

let serial = 0;

// Starts a cluster and returns it once it accepts connections; throws naming what is missing (tests never skip).
export async function startPostgres(o: StartPostgresOptions = {}): Promise<PgCluster> {
  if (!existsSync(join(PG_BIN, 'initdb'))) {
    throw new Error(`${PG_BIN}/initdb is missing: install postgresql-15 (\`xepa deps --tests\` does)`);
  }
  const owner = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'xepa-pg-'));
  const data = join(dir, 'data');
  if (owner) chownSync(dir, owner.uid, owner.gid);
  chmodSync(dir, 0o700);
  await run(owner, join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const settings = [
    "listen_addresses = ''",
    `unix_socket_directories = '${dir}'`,
    `port = ${PORT}`,
    `max_connections = ${o.maxConnections ?? 100}`,
    ...(o.durable ? [] : ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off']),
  ];
  appendFileSync(join(data, 'postgresql.conf'), `\n# xepa test cluster\n${settings.join('\n')}\n`);
  const log = join(dir, 'server.log');
  try {
    await run(owner, join(PG_BIN, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '120', 'start']);
  } catch (err) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-10).join('\n') : '(no log)';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${tail}`);
  }
  // A test run that dies must not leave a postgres behind.
  const onExit = (): void => void spawnSync(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], { stdio: 'ignore', ...(owner ?? {}) });
  process.once('exit', onExit);
  const connection = (database: string): pg.PoolConfig => ({ host: dir, port: PORT, user: 'postgres', database });
  return {
    dir,
    connection,
    url: (database) => `postgresql:///${database}?host=${encodeURIComponent(dir)}&port=${PORT}&user=postgres`,
    async createDatabase(prefix = 'xepa_test') {
      const name = `${prefix}_${process.pid}_${++serial}`;
      const client = new pg.Client(connection('postgres'));
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return name;
    },
    async stop() {
      process.removeListener('exit', onExit);
      try {
        await run(owner, join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// The uid/gid the cluster runs as: xepa-pg when we are root (created as a system user if missing), else ourselves.
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let id = spawnSync('id', ['-u', PG_USER], { encoding: 'utf8' });
  if (id.status !== 0) {
    const add = spawnSync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', PG_USER], { encoding: 'utf8' });
    // exit 9: another test file created it meanwhile
    if (add.status !== 0 && add.status !== 9) throw new Error(`cannot create the system user ${PG_USER} for PostgreSQL: ${add.stderr.trim()}`);
    id = spawnSync('id', ['-u', PG_USER], { encoding: 'utf8' });
  }
  const gid = spawnSync('id', ['-g', PG_USER], { encoding: 'utf8' });
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function run(owner: { uid: number; gid: number } | undefined, cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/', env: { ...process.env, LC_ALL: 'C' }, ...(owner ?? {}) });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${out.trim().split('\n').slice(-5).join(' | ')}`))));
  });
}
