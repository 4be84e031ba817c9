import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { SmtpSettings } from '../../src/report/email.js';

const run = promisify(execFile);

/** A message the fixture received, parsed back, with what the session knew about it. */
export interface Received {
  readonly mail: ParsedMail;
  readonly raw: string;
  readonly secure: boolean;
  readonly user: unknown;
  readonly mailFrom: string;
  readonly rcptTo: readonly string[];
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 with STARTTLS from a self-signed certificate made
 * here with openssl, AUTH PLAIN/LOGIN over TLS only, and one accepted user.
 */
export interface SmtpFixture {
  readonly port: number;
  readonly dir: string;
  readonly caFile: string;
  readonly user: string;
  readonly password: string;
  readonly received: Received[];
  /** Resolves with the next message (or one already received and not yet taken). */
  next(timeoutMs?: number): Promise<Received>;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<SmtpFixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vs-smtp-'));
  const keyFile = path.join(dir, 'key.pem');
  const caFile = path.join(dir, 'cert.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    caFile,
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  const user = 'virt-squeeze';
  const password = `pw-${Math.random().toString(36).slice(2)}-secret`;
  const received: Received[] = [];
  const waiters: Array<(r: Received) => void> = [];
  const deliver = (r: Received): void => {
    const waiter = waiters.shift();
    if (waiter) waiter(r);
    else received.push(r);
  };
  const server = new SMTPServer({
    key: readFileSync(keyFile),
    cert: readFileSync(caFile),
    logger: false,
    disableReverseLookup: true,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) callback(null, { user });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((mail) => {
            deliver({
              mail,
              raw,
              secure: session.secure,
              user: session.user,
              mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              rcptTo: session.envelope.rcptTo.map((r) => r.address),
            });
            callback();
          })
          .catch((err: Error) => callback(err));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    dir,
    caFile,
    user,
    password,
    received,
    next: (timeoutMs = 20_000) =>
      new Promise<Received>((resolve, reject) => {
        const ready = received.shift();
        if (ready) return resolve(ready);
        const timer = setTimeout(() => reject(new Error('no message within timeout')), timeoutMs);
        waiters.push((r) => {
          clearTimeout(timer);
          resolve(r);
        });
      }),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `content` to a file in `dir` with `mode`. */
export function writeFileWithMode(dir: string, name: string, content: string, mode: number): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  chmodSync(file, mode);
  return file;
}

/** Client settings for the fixture: STARTTLS, its CA, its user, the password in a 0600 file. */
export function settingsFor(smtp: SmtpFixture, to: readonly string[] = ['ops@example.test']): SmtpSettings {
  return {
    host: '127.0.0.1',
    port: smtp.port,
    security: 'starttls',
    user: smtp.user,
    passwordFile: writeFileWithMode(smtp.dir, 'smtp.pw', `${smtp.password}\n`, 0o600),
    caFile: smtp.caFile,
    from: 'virt-squeeze@example.test',
    to,
  };
}
