/**
 * The actor of `platesieve hotlist add|cancel|remove` (matcher/cli/actor.ts): the NATS
 * identity the command authenticates with, else the OS login; a typed --actor is only a note.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { changeAuthor, cliIdentity, identityOf } from '../../matcher/cli/actor.js';
import { UsageError } from '../../matcher/cli/errors.js';
import type { NatsConfig } from '../../matcher/service/config.js';
import { credsFile, encodeJwt, nkeys } from '../helpers/jwt.js';
import { hasOpenssl, makePki } from '../helpers/tls.js';

const dir = mkdtempSync(join(tmpdir(), 'platesieve-actor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base: NatsConfig = { servers: ['nats://127.0.0.1:4222'], name: 'platesieve', inboxPrefix: '_INBOX', maxReconnectAttempts: -1, reconnectTimeWaitMs: 500 };
const os = `${userInfo().username}@${hostname()}`;

function creds(name: string): { file: string; sub: string } {
  const account = nkeys.createAccount();
  const user = nkeys.createUser();
  const jwt = encodeJwt(account, user.getPublicKey(), name, { type: 'user', version: 2 });
  const file = join(dir, `${name || 'noname'}.creds`);
  writeFileSync(file, credsFile(jwt, user.getSeed()));
  return { file, sub: user.getPublicKey() };
}

describe('identityOf', () => {
  it('takes the NATS user name, from the settings or from the server URL', () => {
    expect(identityOf({ ...base, user: 'ops', pass: 'x' })).toEqual({ actor: 'ops', source: 'nats-user' });
    expect(identityOf({ ...base, servers: ['nats://jdoe:secret@127.0.0.1:4222'] })).toEqual({ actor: 'jdoe', source: 'nats-user' });
  });

  it("takes a creds file's JWT name (with its subject as the key), else its subject", () => {
    const named = creds('ops-kim');
    expect(identityOf({ ...base, credsFile: named.file })).toEqual({ actor: 'ops-kim', source: 'nats-jwt', key: named.sub });
    const unnamed = creds('');
    expect(identityOf({ ...base, credsFile: unnamed.file })).toEqual({ actor: unnamed.sub, source: 'nats-jwt' });
  });

  it("takes an nkey seed's public key", () => {
    const user = nkeys.createUser();
    const file = join(dir, 'user.nk');
    writeFileSync(file, `${new TextDecoder().decode(user.getSeed())}\n`);
    expect(identityOf({ ...base, nkeySeedFile: file })).toEqual({ actor: user.getPublicKey(), source: 'nats-nkey' });
  });

  it('falls back to the OS user@host with a token (a shared secret) or no credential', () => {
    expect(identityOf({ ...base, token: 't0ken' })).toEqual({ actor: os, source: 'os-user' });
    expect(identityOf({ ...base, servers: ['nats://t0ken@127.0.0.1:4222'] })).toEqual({ actor: os, source: 'os-user' });
    expect(identityOf(base)).toEqual({ actor: os, source: 'os-user' });
  });

  it.runIf(hasOpenssl())("takes a client certificate's CN when it is the only credential", () => {
    const pki = makePki(dir);
    expect(identityOf({ ...base, tls: { caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey } })).toEqual({ actor: 'platesieve', source: 'tls-certificate' });
  });
});

describe('changeAuthor and cliIdentity', () => {
  it('keeps a typed --actor as a note, never as the actor', () => {
    const author = changeAuthor({ natsUser: 'ops', actor: ' det.ortiz ' });
    expect(author.identity).toEqual({ actor: 'ops', source: 'nats-user' });
    expect(author.details).toEqual({ actorSource: 'nats-user', actorKey: undefined, statedActor: 'det.ortiz' });
    expect(changeAuthor({ actor: 'det.ortiz' }).identity.actor).toBe(os);
  });

  it('reports an unreadable credential as a usage error', () => {
    expect(() => cliIdentity({ natsCreds: join(dir, 'missing.creds') })).toThrow(UsageError);
  });
});
