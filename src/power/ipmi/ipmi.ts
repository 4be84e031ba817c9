import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { BackendError } from '../../errors.js';
import { readSecretFile, scrub } from '../secret-file.js';
import { lastLine, runTool, type ToolResult } from '../run-tool.js';
import type { OffMode, PowerDriver, PowerState } from '../types.js';
import type { IpmiConfig } from './schema.js';

/** The client binary; found on PATH (Debian `ipmitool`). */
export const IPMITOOL = 'ipmitool';

/** Pause between attempts: long enough for a BMC that dropped a session to recover. */
const RETRY_PAUSE_MS = 500;

/** ipmitool's own words for a refused login: never worth a retry (and BMCs lock users out after a few). */
const AUTH_FAILURE =
  /RAKP \d+ HMAC is invalid|unauthorized name|invalid (user ?name|password)|Insufficient privilege/i;

/** The instantaneous reading of `ipmitool dcmi power reading`, watts; undefined when absent or deactivated. */
export function parseDcmiWatts(out: string): number | undefined {
  if (/Power Reading State is:\s*deactivated/i.test(out)) return undefined;
  const m = /Instantaneous power reading:\s*(\d+(?:\.\d+)?)\s*Watts/i.exec(out);
  return m ? Number(m[1]) : undefined;
}

/**
 * IPMI power control through `ipmitool -I lanplus`. The password goes to the child through
 * IPMI_PASSWORD (`-E`), read from the password file at each call; argv holds no secret.
 */
export class IpmiDriver implements PowerDriver {
  readonly name = 'ipmi';

  constructor(
    private readonly hostId: string,
    private readonly cfg: IpmiConfig,
    private readonly log?: Logger,
  ) {}

  async status(signal?: AbortSignal): Promise<PowerState> {
    const out = await this.run(['chassis', 'power', 'status'], signal);
    const m = /Chassis Power is (on|off)/i.exec(out);
    if (!m) throw this.error('chassis power status', `unexpected answer ${JSON.stringify(lastLine(out))}`);
    return m[1]!.toLowerCase() as PowerState;
  }

  async powerOn(signal?: AbortSignal): Promise<void> {
    await this.run(['chassis', 'power', 'on'], signal);
  }

  /** `graceful` and `soft` ask the OS (ACPI soft-off); `hard` cuts the power. */
  async powerOff(mode: OffMode, signal?: AbortSignal): Promise<void> {
    await this.run(['chassis', 'power', mode === 'hard' ? 'off' : 'soft'], signal);
  }

  async cycle(signal?: AbortSignal): Promise<void> {
    await this.run(['chassis', 'power', 'cycle'], signal);
  }

  /** The DCMI instantaneous reading; undefined when the BMC has no DCMI (a failed login still throws). */
  async readPowerWatts(signal?: AbortSignal): Promise<number | undefined> {
    let out: string;
    try {
      out = await this.run(['dcmi', 'power', 'reading'], signal, 0);
    } catch (err) {
      if (err instanceof BackendError && /authentication failed|unreachable/.test(err.message)) throw err;
      this.log?.debug({ host: this.hostId, driver: 'ipmi' }, 'BMC offers no DCMI power reading');
      return undefined;
    }
    return parseDcmiWatts(out);
  }

  /** ipmitool's options before the command; `-N`/`-R` bound its own waiting (it waits 20 s by default). */
  baseArgs(): string[] {
    const perTryS = Math.max(1, Math.round(this.cfg.timeout / 2000));
    const { address, port, username, cipher_suite } = this.cfg;
    const target = ['-H', address, '-p', String(port), '-U', username];
    return [
      '-I',
      'lanplus',
      '-C',
      String(cipher_suite),
      ...target,
      '-E',
      '-N',
      String(perTryS),
      '-R',
      '1',
      '-v',
    ];
  }

  private async run(command: string[], signal?: AbortSignal, retries = this.cfg.retries): Promise<string> {
    const what = command.join(' ');
    const password = readSecretFile(this.cfg.password_file, `host ${this.hostId}: ipmi password_file`);
    let reason = '';
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      if (attempt > 1) await sleep(RETRY_PAUSE_MS, undefined, { signal }).catch(() => undefined);
      if (signal?.aborted) throw this.error(what, 'aborted');
      this.log?.debug({ host: this.hostId, driver: 'ipmi', command: what, attempt }, 'ipmitool');
      const r = await this.spawn(command, password, signal);
      if (r.code === 0) return r.stdout;
      if (AUTH_FAILURE.test(r.stderr))
        throw this.error(what, 'authentication failed (wrong username or password, or user not allowed)');
      reason = this.describe(r, password);
      this.log?.warn(
        { host: this.hostId, driver: 'ipmi', command: what, attempt, reason },
        'ipmitool failed',
      );
    }
    throw this.error(what, `${reason} (after ${retries + 1} attempts)`);
  }

  private async spawn(command: string[], password: string, signal?: AbortSignal): Promise<ToolResult> {
    try {
      return await runTool(IPMITOOL, [...this.baseArgs(), ...command], {
        timeoutMs: this.cfg.timeout + 3000,
        env: { IPMI_PASSWORD: password },
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw this.error(command.join(' '), code === 'ENOENT' ? 'ipmitool is not installed' : String(code));
    }
  }

  private describe(r: ToolResult, password: string): string {
    if (r.timedOut) return `no answer within ${this.cfg.timeout} ms`;
    const line = scrub(lastLine(r.stderr) || lastLine(r.stdout), [password]);
    if (/Unable to establish IPMI v2/i.test(line)) return `BMC unreachable or not answering (${line})`;
    return line || `ipmitool exited ${r.code}`;
  }

  private error(command: string, reason: string): BackendError {
    const { address, port } = this.cfg;
    return new BackendError(`host ${this.hostId}: ipmi ${command} via ${address}:${port}: ${reason}`);
  }
}
