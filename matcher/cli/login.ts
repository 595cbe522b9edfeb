/**
 * `platesieve login --api URL [--user NAME]` and `platesieve logout`. Login asks for the
 * password and, for accounts with a second factor, the TOTP code: hidden prompts on a
 * terminal, else the first and second lines of standard input (scripts, tests). The session
 * token is kept in the user's config directory (api-client.ts) for the other commands.
 */
import { userInfo } from 'node:os';
import type { Readable } from 'node:stream';
import { Command } from 'commander';
import { ApiClient, ApiError, apiBase, readSession, removeSession, sessionPath, writeSession } from './api-client.js';
import { UsageError } from './errors.js';
import type { CommandIo } from './match.js';

interface LoginAnswer {
  token: string;
  expiresAt: number;
  roles: string[];
  username: string;
}

type TtyIn = Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => void };

/** Reads one line from a terminal without echoing it. */
function promptHidden(io: CommandIo, question: string): Promise<string> {
  const input = io.stdin as TtyIn;
  io.stderr.write(question);
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (fn: () => void): void => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      io.stderr.write('\n');
      fn();
    };
    const onData = (chunk: Buffer | string): void => {
      for (const c of chunk.toString()) {
        if (c === '\r' || c === '\n') return done(() => resolve(text));
        if (c === '\u0003' || c === '\u0004') return done(() => reject(new UsageError('login cancelled')));
        if (c === '\u007f' || c === '\b') text = text.slice(0, -1);
        else text += c;
      }
    };
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
  });
}

/** The first `n` lines of a (non-terminal) standard input. */
async function stdinLines(input: Readable): Promise<string[]> {
  let text = '';
  for await (const chunk of input) {
    text += (chunk as Buffer).toString();
    if (text.length > 64 * 1024) break;
  }
  return text.split(/\r?\n/);
}

function defaultUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}

export function registerLoginCommands(program: Command, io: CommandIo): void {
  program
    .command('login')
    .description('log in to the operations API; the session is kept for search, hold and hotlist commands')
    .requiredOption('--api <url>', 'the operations API (https://HOST:PORT)')
    .option('--user <name>', 'account name (default: your login name)')
    .addHelpText('after', '\nOn a terminal the password and the TOTP code are asked for without echo; otherwise they are read as the first and second lines of standard input.\nThe session is kept in $XDG_CONFIG_HOME/platesieve/session.json (or ~/.config/platesieve/session.json), readable by you alone.')
    .action(async (opts: { api: string; user?: string }) => {
      const base = apiBase(opts.api);
      const username = opts.user ?? defaultUser();
      if (username === '') throw new UsageError('give --user NAME');
      const tty = (io.stdin as TtyIn).isTTY === true;
      let password: string;
      let totp: string | undefined;
      if (tty) {
        password = await promptHidden(io, `password for ${username}: `);
        totp = (await promptHidden(io, 'TOTP code (empty if your account has none): ')).trim();
      } else {
        const lines = await stdinLines(io.stdin);
        password = lines[0] ?? '';
        totp = lines[1]?.trim();
      }
      if (password === '') throw new UsageError('no password given');
      const client = new ApiClient(base);
      let answer: LoginAnswer;
      try {
        answer = await client.request<LoginAnswer>('POST', '/api/login', { username, password, ...(totp !== undefined && totp !== '' ? { totp } : {}) });
      } catch (err) {
        if (err instanceof ApiError && err.code === 'ERR_AUTH_TOTP_REQUIRED') throw new UsageError(`${err.message}: give the code from your authenticator app`, { cause: err });
        throw err;
      }
      const path = writeSession({ api: base, token: answer.token, expiresAt: answer.expiresAt, user: answer.username });
      io.stdout.write(`logged in to ${base} as ${answer.username} (${answer.roles.join(', ')}) until ${new Date(answer.expiresAt).toISOString()}; session in ${path}\n`);
    });

  program
    .command('logout')
    .description('end the session with the operations API and forget its token')
    .action(async () => {
      const saved = readSession();
      if (saved === undefined) {
        io.stdout.write(`not logged in (no session in ${sessionPath()})\n`);
        return;
      }
      try {
        await new ApiClient(apiBase(saved.api), saved.token).request('POST', '/api/logout');
      } catch (err) {
        // An expired or unknown session is over anyway; the file goes either way.
        if (!(err instanceof ApiError) || err.status !== 401) {
          removeSession();
          throw err;
        }
      }
      removeSession();
      io.stdout.write(`logged out of ${saved.api}\n`);
    });
}
