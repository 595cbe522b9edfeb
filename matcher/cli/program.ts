/**
 * The `platesieve` command tree. Each subcommand lives in its own file and registers itself
 * here; `serve` and `hotlist` join `match` the same way.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, OutputClosed, UsageError } from './errors.js';
import { registerMatchCommand, type CommandIo } from './match.js';
import { registerServeCommand } from './serve.js';
import { registerDemoCommand } from './demo.js';
import { registerAuditCommand } from './audit.js';
import { registerHotlistCommand } from './hotlist.js';
import { registerLiveCommands } from './live.js';
import { registerStoreCommand } from './store.js';
import { registerHoldCommand } from './hold.js';
import { registerSearchCommand } from './search.js';
import { registerReplayCommand } from './replay.js';
import { registerOpsCommand } from './ops.js';
import { registerLoginCommands } from './login.js';
import { registerUsersCommand } from './users.js';
import { registerShareCommand } from './share.js';
import { registerSensitiveCommand } from './sensitive.js';
import { registerAlertsCommand } from './alerts.js';

function packageVersion(): string {
  // dist/matcher/cli/ or matcher/cli/: the package root is three or two levels up.
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'platesieve' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0';
}

/** Builds the program. Errors of commander surface as exceptions (see {@link runCli}). */
export function createProgram(io: CommandIo): Command {
  const program = new Command('platesieve')
    .description('High-throughput license-plate-read matcher: hotlists, OCR-aware and fuzzy tiers')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for the command')
    .helpCommand(false)
    .exitOverride()
    .configureOutput({
      writeOut: (str) => void io.stdout.write(str),
      writeErr: (str) => void io.stderr.write(str),
      // One line, prefixed like every other CLI error: "platesieve: error: ...".
      outputError: (str, write) => write(`platesieve: ${str.replace(/\s*\n\s*/g, ' ').trim()}\n`),
    });
  registerMatchCommand(program, io);
  registerServeCommand(program, io);
  registerDemoCommand(program, io);
  registerAuditCommand(program, io);
  registerLiveCommands(registerHotlistCommand(program, io), io);
  registerStoreCommand(program, io);
  registerHoldCommand(program, io);
  registerSearchCommand(program, io);
  registerReplayCommand(program, io);
  registerOpsCommand(program, io);
  registerLoginCommands(program, io);
  registerUsersCommand(program, io);
  registerShareCommand(program, io);
  registerSensitiveCommand(program, io);
  registerAlertsCommand(program, io);
  return program;
}

/** Runs the CLI with `argv` (as `process.argv`) and returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CommandIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv]);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (err instanceof OutputClosed) return EXIT_OK;
    const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();
    if (err instanceof UsageError) {
      io.stderr.write(`platesieve: error: ${oneLine(err.message)}\n`);
      return EXIT_USAGE;
    }
    // InputDecodeError, CoreError, write errors: the run failed after it started.
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`platesieve: error: ${oneLine(message)}\n`);
    return EXIT_FAILURE;
  }
}
