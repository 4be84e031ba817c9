import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** One host key from a known_hosts file. */
export interface KnownKey {
  /** Key type, e.g. `ssh-ed25519`. */
  readonly type: string;
  /** The key blob, as the server sends it. */
  readonly blob: Buffer;
  readonly revoked: boolean;
}

/** The name a host has in known_hosts: `addr` on port 22, `[addr]:port` otherwise (as OpenSSH writes it). */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** True when a (plain or `|1|salt|hash` hashed) host pattern list names `name`; negated patterns exclude. */
function patternMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let hit = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!') && globMatch(p.slice(1), name)) return false;
    if (globMatch(p, name)) hit = true;
  }
  return hit;
}

function globMatch(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name);
}

/**
 * The keys known_hosts lists for `name` (`@cert-authority` lines are not supported and ignored;
 * `@revoked` keys are returned marked so that they are refused).
 */
export function parseKnownHosts(text: string, name: string): KnownKey[] {
  const keys: KnownKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let fields = line.split(/\s+/);
    let marker = '';
    if (fields[0]!.startsWith('@')) {
      marker = fields[0]!;
      fields = fields.slice(1);
    }
    const [hosts, type, b64] = fields;
    if (!hosts || !type || !b64 || marker === '@cert-authority') continue;
    if (!patternMatches(hosts, name)) continue;
    keys.push({ type, blob: Buffer.from(b64, 'base64'), revoked: marker === '@revoked' });
  }
  return keys;
}

/** Reads the file and returns the keys for the host. */
export function knownKeysFor(path: string, address: string, port: number): KnownKey[] {
  return parseKnownHosts(readFileSync(path, 'utf8'), knownHostsName(address, port));
}

/** ssh2 host-key algorithm names that a known key type allows (RSA keys sign with SHA-2 variants). */
export function hostKeyAlgorithms(keys: readonly KnownKey[]): string[] {
  const out = new Set<string>();
  for (const k of keys) {
    if (k.revoked) continue;
    if (k.type === 'ssh-rsa') ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'].forEach((a) => out.add(a));
    else out.add(k.type);
  }
  return [...out];
}
