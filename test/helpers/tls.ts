/**
 * Certificates for TLS tests, made with the `openssl` command line: a CA, a server
 * certificate for 127.0.0.1 and a client certificate signed by it, and a second CA with a
 * client certificate the server must refuse. Files are written to `dir`.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Paths of the generated files. */
export interface TestPki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by another CA, which the server does not trust. */
  strangerCert: string;
  strangerKey: string;
}

/** True when the `openssl` command runs. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Generates the CAs and certificates (RSA 2048, valid one day) into `dir`. */
export function makePki(dir: string): TestPki {
  const f = (n: string): string => join(dir, n);
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  const ca = (name: string): void =>
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', f(`${name}-key.pem`), '-out', f(`${name}.pem`));
  const signed = (name: string, cn: string, caName: string, ext: string): void => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}-key.pem`), '-out', f(`${name}.csr`));
    writeFileSync(f(`${name}.ext`), ext);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${caName}.pem`), '-CAkey', f(`${caName}-key.pem`), '-CAcreateserial', '-days', '1', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`));
  };
  ca('test-ca');
  ca('other-ca');
  signed('server', '127.0.0.1', 'test-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('client', 'platesieve', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  signed('stranger', 'platesieve', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    ca: f('test-ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server-key.pem'),
    clientCert: f('client.pem'),
    clientKey: f('client-key.pem'),
    strangerCert: f('stranger.pem'),
    strangerKey: f('stranger-key.pem'),
  };
}
