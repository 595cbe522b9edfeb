#!/usr/bin/env node
/**
 * The `platesieve` executable (package.json `bin`). The CLI is the only part of platesieve
 * that prints; everything it runs reports through return values and typed errors.
 */
import { runCli } from './program.js';

const code = await runCli(process.argv, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
// Exit explicitly: an unread standard input (hotlist refused before reading it) must not
// keep the process alive. Standard output and error are synchronous for files and pipes.
process.exit(code);
