import { readFileSync } from 'node:fs';
// ssh2 is CommonJS: its default export is the one shape Node's ESM loader guarantees.
import ssh2, { type Client, type ConnectConfig } from 'ssh2';
import type { Logger } from 'pino';
import { BackendError } from '../../errors.js';
import type { OffMode, PowerDriver } from '../types.js';
import { hostKeyAlgorithms, knownHostsName, knownKeysFor, type KnownKey } from './known-hosts.js';
import type { SshConfig } from './schema.js';

/** What a remote command returned; `code` is undefined when the connection dropped first (the host went down). */
export interface SshExecResult {
  readonly code: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** A refusal that waiting will not cure: a wrong host key or a refused client key. */
export class SshTrustError extends BackendError {}

const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE|Timed out|socket|ended/i;

/** Graceful shutdown over SSH (ssh2), key authentication only, host key checked against known_hosts. */
export class SshDriver implements PowerDriver {
  readonly name = 'ssh';

  constructor(
    private readonly hostId: string,
    private readonly cfg: SshConfig,
    private readonly log?: Logger,
  ) {}

  /** Runs the configured shutdown command; a connection that drops mid-command counts as accepted (the host is going down). */
  async powerOff(_mode: OffMode, signal?: AbortSignal): Promise<void> {
    const r = await this.exec(this.cfg.command, signal);
    if (r.code !== undefined && r.code !== 0)
      throw this.error(
        `${JSON.stringify(this.cfg.command)} exited ${r.code}: ${r.stderr.trim().slice(0, 200)}`,
      );
  }

  /** True when an authenticated session opens; false when the host does not answer. Throws SshTrustError on a wrong key. */
  async answers(signal?: AbortSignal): Promise<boolean> {
    try {
      const client = await this.connect(signal);
      client.end();
      return true;
    } catch (err) {
      if (err instanceof SshTrustError) throw err;
      return false;
    }
  }

  /** Runs one command; the whole exchange is bounded by the configured timeout. */
  async exec(command: string, signal?: AbortSignal): Promise<SshExecResult> {
    const client = await this.connect(signal);
    this.log?.info({ host: this.hostId, driver: 'ssh', command }, 'ssh exec');
    try {
      return await new Promise<SshExecResult>((resolve, reject) => {
        let stdout = '';
        let stderr = '';
        let code: number | undefined;
        const timer = setTimeout(
          () => reject(this.error(`no answer to ${JSON.stringify(command)} within ${this.cfg.timeout} ms`)),
          this.cfg.timeout,
        );
        const finish = (): void => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        };
        client.on('close', finish);
        client.on('error', finish);
        client.exec(command, (err, stream) => {
          if (err) {
            clearTimeout(timer);
            return reject(this.error(`exec failed: ${err.message}`));
          }
          stream.on('data', (d: Buffer) => (stdout += d.toString()));
          stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          stream.on('exit', (c: number | null) => (code = c ?? undefined));
          stream.on('close', (c: number | null) => {
            if (typeof c === 'number') code = c;
            finish();
          });
        });
      });
    } finally {
      client.end();
    }
  }

  private connect(signal?: AbortSignal): Promise<Client> {
    const keys = this.trustedKeys();
    const privateKey = this.privateKey();
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      let hostKeyRefused = false;
      const abort = (): void => {
        client.destroy();
        reject(this.error('aborted'));
      };
      signal?.addEventListener('abort', abort, { once: true });
      let ready = false;
      client.once('ready', () => {
        ready = true;
        signal?.removeEventListener('abort', abort);
        resolve(client);
      });
      // A peer that closes before the handshake ends emits only 'close': without this the promise would hang.
      client.once('close', () => {
        signal?.removeEventListener('abort', abort);
        if (!ready) reject(this.error('not answering (connection closed before login)'));
      });
      client.once('error', (err: Error & { level?: string }) => {
        signal?.removeEventListener('abort', abort);
        client.destroy();
        if (hostKeyRefused)
          return reject(new SshTrustError(this.message('host key does not match known_hosts: refused')));
        if (err.level === 'client-authentication')
          return reject(
            new SshTrustError(this.message(`key authentication refused for user ${this.cfg.user}`)),
          );
        const reason = UNREACHABLE.test(err.message) ? `not answering (${err.message})` : err.message;
        reject(this.error(reason));
      });
      const config: ConnectConfig = {
        host: this.cfg.address,
        port: this.cfg.port,
        username: this.cfg.user,
        privateKey,
        readyTimeout: this.cfg.timeout,
        tryKeyboard: false,
        algorithms: {
          serverHostKey: hostKeyAlgorithms(keys) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'],
        },
        hostVerifier: (key: Buffer) => {
          const ok = keys.some((k) => !k.revoked && k.blob.equals(key));
          if (!ok) hostKeyRefused = true;
          return ok;
        },
      };
      client.connect(config);
    });
  }

  /** The host's keys from known_hosts; none means strict checking refuses to connect at all. */
  private trustedKeys(): KnownKey[] {
    let keys: KnownKey[];
    try {
      keys = knownKeysFor(this.cfg.known_hosts, this.cfg.address, this.cfg.port);
    } catch (err) {
      throw new SshTrustError(
        this.message(`cannot read known_hosts ${this.cfg.known_hosts}: ${(err as Error).message}`),
      );
    }
    if (keys.every((k) => k.revoked))
      throw new SshTrustError(
        this.message(
          `no key for ${knownHostsName(this.cfg.address, this.cfg.port)} in ${this.cfg.known_hosts}: refused`,
        ),
      );
    return keys;
  }

  private privateKey(): Buffer {
    try {
      return readFileSync(this.cfg.key_file);
    } catch (err) {
      throw new SshTrustError(this.message(`cannot read key_file: ${(err as NodeJS.ErrnoException).code}`));
    }
  }

  private message(reason: string): string {
    return `host ${this.hostId}: ssh ${this.cfg.user}@${this.cfg.address}:${this.cfg.port}: ${reason}`;
  }

  private error(reason: string): BackendError {
    return new BackendError(this.message(reason));
  }
}
