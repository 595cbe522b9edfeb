/**
 * Credentials written into NATS server URLs (`nats://user:pass@host:4222`,
 * `nats://token@host:4222`). nats.js ignores them (it authenticates with options only), so a
 * URL with a password used to fail against a secured server while its password went into
 * every log line. Like the Go and other NATS clients, platesieve takes them as the
 * connection's credentials and strips them from the server list the client, the logs and the
 * health report see.
 */
import { ConfigError } from '../errors.js';

/** Servers without credentials, and the credentials they carried. */
export interface UrlCredentials {
  /** The server URLs with any `userinfo@` removed (scheme, host, port and path kept). */
  servers: string[];
  /** `user:pass@`: user name and password. */
  user?: string;
  pass?: string;
  /** `token@` (userinfo without a colon): an authorization token. */
  token?: string;
  /** Index of the first URL that carried credentials, for error messages. */
  from?: number;
}

const AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)(.*)$/is;

function decode(part: string, index: number): string {
  try {
    return decodeURIComponent(part);
  } catch (err) {
    // Never quote the part: it is a secret.
    throw new ConfigError(`nats.servers[${index}]`, `config: nats.servers[${index}] has malformed percent-encoding in its credentials`, { cause: err });
  }
}

/**
 * Splits credentials off the server URLs. Every URL that carries credentials must carry the
 * same ones (a cluster has one account for this client).
 * @throws ConfigError naming the URL by index (never quoting it) on malformed or differing credentials.
 */
export function splitUrlCredentials(servers: readonly string[]): UrlCredentials {
  const out: UrlCredentials = { servers: [] };
  let seen: string | undefined;
  servers.forEach((server, index) => {
    const m = AUTHORITY.exec(server);
    const authority = m?.[2] ?? '';
    const at = authority.lastIndexOf('@');
    if (m === null || at < 0) {
      out.servers.push(server);
      return;
    }
    out.servers.push(`${m[1] ?? ''}${authority.slice(at + 1)}${m[3]}`);
    const userinfo = authority.slice(0, at);
    if (userinfo === '') return; // `nats://@host`: nothing to use
    if (seen !== undefined && seen !== userinfo) {
      throw new ConfigError(
        `nats.servers[${index}]`,
        `config: nats.servers[${index}] carries different credentials from nats.servers[${out.from ?? 0}]: give the same ones, or put them in nats.user/nats.pass or nats.token instead`,
      );
    }
    if (seen !== undefined) return;
    seen = userinfo;
    out.from = index;
    const colon = userinfo.indexOf(':');
    if (colon < 0) out.token = decode(userinfo, index);
    else {
      out.user = decode(userinfo.slice(0, colon), index);
      out.pass = decode(userinfo.slice(colon + 1), index);
    }
  });
  return out;
}

/**
 * The secrets of a `nats` configuration (password, token, and those inside server URLs), for
 * `redactText()` (redact.ts) on messages that might echo one.
 */
export function natsSecrets(config: { servers: readonly string[]; pass?: string; token?: string }): string[] {
  const out = [config.pass, config.token];
  try {
    const fromUrls = splitUrlCredentials(config.servers);
    out.push(fromUrls.pass, fromUrls.token);
  } catch {
    // Malformed credentials are refused at connect; nothing to add here.
  }
  return out.filter((s): s is string => s !== undefined && s !== '');
}
