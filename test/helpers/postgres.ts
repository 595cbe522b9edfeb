/**
 * A real PostgreSQL database per test file: created on the server the machine runs
 * (PLATESIEVE_TEST_PG, default postgres://postgres@127.0.0.1:5432/postgres, trust auth; .ci/run
 * starts it when it is not running) and dropped afterwards. Never an in-memory stand-in.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const ADMIN_URL = process.env.PLATESIEVE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Creates an empty database for one test file. */
export async function createTestDatabase(tag = 'test'): Promise<TestDatabase> {
  const name = `platesieve_${tag.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(ADMIN_URL, name),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A PostgreSQL server of the test's own (to kill -9 without harming the machine's). */
export interface PrivatePostgres {
  url: string;
  port: number;
  /** SIGKILL to the postmaster and every backend; the data directory stays. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data (crash recovery runs). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const PG_BIN = process.env.PLATESIEVE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * initdb into a temp directory and run `postgres` on a free port. As root, the server runs as
 * the `postgres` user (postgres refuses root).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const asRoot = process.getuid !== undefined && process.getuid() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'platesieve-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const wrap = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const [c, a] = wrap(join(PG_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  execFileSync(c, a, { stdio: 'ignore' });
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  let child: ReturnType<typeof spawn> | undefined;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const ready = async (): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      const client = new pg.Client({ connectionString: url });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`private postgres on ${port} did not start`);
  };
  const start = async (): Promise<void> => {
    const [cmd, args] = wrap(join(PG_BIN, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on']);
    child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    await ready();
  };
  const kill = async (): Promise<void> => {
    if (child?.pid === undefined) return;
    const exited = new Promise((r) => child?.once('exit', r));
    process.kill(-child.pid, 'SIGKILL');
    await exited;
    // Backends orphaned by the postmaster's death exit on their own; wait for the port to free.
    execFileSync('sh', ['-c', `for i in $(seq 50); do pgrep -f "postgres: .*${port}" >/dev/null || pgrep -u postgres -f "${data}" >/dev/null || exit 0; sleep 0.1; done; exit 0`]);
    child = undefined;
  };
  await start();
  return {
    url,
    port,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
