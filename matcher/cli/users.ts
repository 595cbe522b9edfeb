/**
 * `platesieve users add|disable|enable|reset|roles|list`: accounts of the operations API
 * (docs/people.md). These connect to the database directly, as the administrator's direct
 * access: the audit actor is the operating-system user, each call is audited by the people
 * library, and each command adds one `access.direct` record. `users add` migrates an empty
 * database, so the first administrator can be created before anything else runs.
 */
import type { Readable } from 'node:stream';
import { Command, InvalidArgumentError } from 'commander';
import pg from 'pg';
import { AuditLog } from '../audit/index.js';
import { ConfigError } from '../errors.js';
import { AuthError, isRole, People, ROLES, type Account, type Role, type TotpEnrolment } from '../people/index.js';
import { osActor } from '../store/open.js';
import { migrate } from '../store/schema.js';
import { redactUrl } from '../service/redact.js';
import { auditFileOf, dbUrlOf, type DbCliOptions } from './db-options.js';
import { UsageError } from './errors.js';
import type { CommandIo } from './match.js';

/** AuthError codes that mean "the request cannot be done as asked": exit 2, like a bad flag. */
const USAGE_CODES = new Set(['ERR_USER_EXISTS', 'ERR_USER_NOT_FOUND', 'ERR_WEAK_PASSWORD', 'ERR_BAD_USERNAME', 'ERR_MFA_REQUIRED', 'ERR_BAD_ROLE']);
const MAX_STDIN = 64 * 1024;

function roleArg(value: string, previous: Role[] | undefined): Role[] {
  const role = value.trim().toLowerCase();
  if (!isRole(role)) throw new InvalidArgumentError(`expected one of ${ROLES.join(', ')}.`);
  return [...(previous ?? []), role];
}

interface TtyIn extends Readable {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

/** Reads one line typed on the terminal without echoing it. Ctrl-C or Ctrl-D cancels. */
function readHidden(io: CommandIo, prompt: string): Promise<string> {
  const input = io.stdin as TtyIn;
  io.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let line = '';
    const done = (err?: Error): void => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      io.stderr.write('\n');
      if (err !== undefined) reject(err);
      else resolve(line);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') line = [...line].slice(0, -1).join('');
        else if (ch >= ' ') line += ch;
      }
    };
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
  });
}

/** The first line of standard input (a password piped in, or given with --password-stdin). */
async function readFirstLine(stdin: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += (chunk as Buffer | string).toString();
    if (text.includes('\n') || text.length > MAX_STDIN) break;
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') throw new UsageError('no password on standard input');
  return line;
}

/** A new password: prompted twice on a terminal, else the first line of standard input. */
async function newPassword(io: CommandIo, username: string, fromStdin: boolean): Promise<string> {
  if (fromStdin || (io.stdin as TtyIn).isTTY !== true) return readFirstLine(io.stdin);
  const first = await readHidden(io, `New password for ${username} (at least 12 characters): `);
  const second = await readHidden(io, 'Again: ');
  if (first !== second) throw new UsageError('the passwords differ; nothing was changed');
  return first;
}

function printEnrolment(io: CommandIo, username: string, totp: TotpEnrolment): void {
  io.stdout.write(`TOTP secret for ${username}: ${totp.secret}\notpauth URI: ${totp.uri}\n`);
  io.stdout.write('Enter it in the user\'s authenticator app now (the URI is a QR code\'s content): it is not shown again.\n');
}

/** On a terminal, asks for a code from the app just enrolled, to catch a mistyped secret at once. */
async function checkEnrolment(io: CommandIo, totp: TotpEnrolment): Promise<void> {
  if ((io.stdin as TtyIn).isTTY !== true) return;
  const typed = (await readHidden(io, 'Code shown by the app, to check the enrolment (Enter to skip): ')).replace(/\s+/g, '');
  if (typed === '') return;
  const now = Date.now();
  const ok = [now - 30_000, now, now + 30_000].some((t) => People.totpNow(totp.secret, t) === typed);
  io.stderr.write(ok ? 'enrolment checked: the code matches\n' : 'warning: the code does not match: enrol the secret again, or reset it with `platesieve users reset NAME --totp`\n');
}

function stateOf(a: Account): string {
  if (a.disabled) return 'disabled';
  if (a.lockedUntil !== undefined && Date.parse(a.lockedUntil) > Date.now()) return `locked until ${a.lockedUntil}`;
  return 'active';
}

function formatTable(accounts: Account[]): string {
  const rows = [['USER', 'ROLES', 'MFA', 'STATE', 'CREATED', 'BY', 'LAST LOGIN']];
  for (const a of accounts) rows.push([a.username, a.roles.join(','), a.mfa ? 'totp' : 'none', stateOf(a), a.createdAt, a.createdBy, a.lastLoginAt ?? '-']);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/**
 * Opens the database (migrating it: `users add` must work on an empty one) and the audit log,
 * records the direct access, runs `work`, and closes both.
 */
async function withPeople<T>(opts: DbCliOptions, command: string, user: string | undefined, work: (people: People, actor: string) => Promise<T>): Promise<T> {
  const url = dbUrlOf(opts);
  const auditFile = auditFileOf(opts);
  const actor = osActor();
  // Two connections: an account change holds one in its transaction while it is audited.
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'platesieve-users' });
  pool.on('error', () => undefined);
  let audit: AuditLog | undefined;
  try {
    const client = await pool.connect().catch((err: unknown) => {
      throw new Error(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
    });
    try {
      await migrate(client);
    } finally {
      client.release();
    }
    audit = await AuditLog.open(auditFile, { actor });
    await audit.append({ action: 'access.direct', actor, subject: user !== undefined ? { user } : {}, details: { command: `users ${command}`, via: 'database' } });
    let people: People;
    try {
      people = new People({ pool, audit });
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
      throw err;
    }
    return await work(people, actor);
  } catch (err) {
    if (err instanceof AuthError && USAGE_CODES.has(err.code)) throw new UsageError(err.message, { cause: err });
    throw err;
  } finally {
    await audit?.close();
    await pool.end();
  }
}

const dbOptions = (c: Command): Command =>
  c.option('--db <url>', 'PostgreSQL URL (or PLATESIEVE_DB_URL)').option('--audit <file>', 'audit log (or PLATESIEVE_AUDIT_FILE); required');

export function registerUsersCommand(program: Command, io: CommandIo): void {
  const users = program
    .command('users')
    .description('accounts of the operations API: add, disable, enable, reset, roles, list (administrators; direct database access, audited)');

  dbOptions(
    users
      .command('add <name>')
      .description('add an account; prints its TOTP secret once (every role but a plain operator needs TOTP)')
      .requiredOption('--role <role>', `a role, repeatable: ${ROLES.join(', ')}`, roleArg)
      .option('--mfa', 'give the account TOTP even when its roles do not need it')
      .option('--no-mfa', 'no TOTP (a plain operator only)')
      .option('--password-stdin', 'read the password from the first line of standard input (also the default when it is not a terminal)'),
  ).action(async (name: string, opts: DbCliOptions & { role: Role[]; mfa?: boolean; passwordStdin?: boolean }) => {
    const password = await newPassword(io, name, opts.passwordStdin === true);
    const { account, totp } = await withPeople(opts, 'add', name, (people, actor) => people.addUser({ username: name, password, roles: opts.role, mfa: opts.mfa }, actor));
    io.stdout.write(`user ${account.username} added: roles ${account.roles.join(', ')}; ${account.mfa ? 'TOTP required' : 'password only'}\n`);
    if (totp !== undefined) {
      printEnrolment(io, account.username, totp);
      await checkEnrolment(io, totp);
    }
  });

  dbOptions(
    users
      .command('disable <name>')
      .description('disable an account and end its sessions')
      .requiredOption('--reason <text>', 'why (recorded in the audit log)'),
  ).action(async (name: string, opts: DbCliOptions & { reason: string }) => {
    if (opts.reason.trim() === '') throw new UsageError('--reason must not be empty');
    const account = await withPeople(opts, 'disable', name, (people, actor) => people.disableUser(name, actor, opts.reason));
    io.stdout.write(`user ${account.username} disabled; its sessions are ended\n`);
  });

  dbOptions(users.command('enable <name>').description('enable an account again (also clears a lockout)')).action(async (name: string, opts: DbCliOptions) => {
    const account = await withPeople(opts, 'enable', name, (people, actor) => people.enableUser(name, actor));
    io.stdout.write(`user ${account.username} enabled\n`);
  });

  dbOptions(
    users
      .command('reset <name>')
      .description('set a new password and/or TOTP secret; clears a lockout and ends the account\'s sessions')
      .option('--password', 'set a new password (prompted, or the first line of standard input)')
      .option('--totp', 'issue a new TOTP secret (printed once)')
      .option('--password-stdin', 'with --password: read it from the first line of standard input'),
  ).action(async (name: string, opts: DbCliOptions & { password?: boolean; totp?: boolean; passwordStdin?: boolean }) => {
    if (opts.password !== true && opts.totp !== true) throw new UsageError('give --password, --totp or both');
    if (opts.passwordStdin === true && opts.password !== true) throw new UsageError('--password-stdin goes with --password');
    const password = opts.password === true ? await newPassword(io, name, opts.passwordStdin === true) : undefined;
    const { account, totp } = await withPeople(opts, 'reset', name, (people, actor) => people.resetUser(name, actor, { password, totp: opts.totp === true }));
    io.stdout.write(`user ${account.username} reset: ${[password !== undefined ? 'new password' : '', totp !== undefined ? 'new TOTP secret' : ''].filter((s) => s !== '').join(', ')}; its sessions are ended\n`);
    if (totp !== undefined) {
      printEnrolment(io, account.username, totp);
      await checkEnrolment(io, totp);
    }
  });

  dbOptions(
    users
      .command('roles <name>')
      .description('replace the roles of an account (open sessions get them at their next request)')
      .requiredOption('--role <role>', `a role, repeatable: ${ROLES.join(', ')}`, roleArg),
  ).action(async (name: string, opts: DbCliOptions & { role: Role[] }) => {
    const account = await withPeople(opts, 'roles', name, (people, actor) => people.setRoles(name, opts.role, actor));
    io.stdout.write(`user ${account.username}: roles ${account.roles.join(', ')}\n`);
  });

  dbOptions(
    users
      .command('list')
      .description('list the accounts (never their passwords or secrets)')
      .option('--format <format>', 'table or json', (v: string) => {
        if (v !== 'table' && v !== 'json') throw new InvalidArgumentError('expected table or json.');
        return v;
      }, 'table'),
  ).action(async (opts: DbCliOptions & { format: 'table' | 'json' }) => {
    const accounts = await withPeople(opts, 'list', undefined, (people) => people.listUsers());
    if (opts.format === 'json') io.stdout.write(`${JSON.stringify(accounts, null, 2)}\n`);
    else io.stdout.write(accounts.length === 0 ? 'no users\n' : formatTable(accounts));
  });
}
