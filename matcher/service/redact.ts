/**
 * Secret-free text for logs, metrics, health reports and error messages. A NATS server URL
 * may carry `user:password@` or `token@` (docs/security.md); every place that shows a server
 * URL, or a message that might quote one, goes through here first.
 */

/** What a secret is replaced by. */
export const REDACTED = '[redacted]';

/** `scheme://userinfo@` anywhere in a text; userinfo stops at the first `/`, space or `@`-less end. */
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/\s?#]*@/gi;

/**
 * One server URL without its credentials: `nats://[redacted]@host:4222`. A URL without a
 * scheme (`user:pass@host:4222`, which nats.js accepts) is handled too; a URL without
 * credentials is returned as it is.
 */
export function redactUrl(url: string): string {
  if (url.includes('://')) return url.replace(URL_USERINFO, `$1${REDACTED}@`);
  const slash = url.search(/[/?#]/);
  const authority = slash < 0 ? url : url.slice(0, slash);
  const at = authority.lastIndexOf('@');
  return at < 0 ? url : `${REDACTED}@${url.slice(at + 1)}`;
}

/**
 * A message safe to show: credentials in any URL it quotes are masked, and so is every
 * literal occurrence of the given secrets (a password or token the server or a library might
 * echo back). Empty secrets are ignored.
 */
export function redactText(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text.replace(URL_USERINFO, `$1${REDACTED}@`);
  // Longest first, so a secret that contains another is masked whole.
  const sorted = secrets.filter((s): s is string => s !== undefined && s !== '').sort((a, b) => b.length - a.length);
  for (const secret of sorted) out = out.split(secret).join(REDACTED);
  return out;
}
