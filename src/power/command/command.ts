import { BackendError } from '../../errors.js';
import { lastLine, runTool } from '../run-tool.js';
import type { OffMode, PowerDriver, PowerState } from '../types.js';
import type { CommandConfig } from './schema.js';

/** A site script: `PATH on HOST`, `PATH off HOST`, `PATH status HOST` (prints `on` or `off`). */
export class CommandDriver implements PowerDriver {
  readonly name = 'command';

  constructor(
    private readonly hostId: string,
    private readonly cfg: CommandConfig,
  ) {}

  async status(signal?: AbortSignal): Promise<PowerState> {
    const word = (await this.call('status', signal)).trim().split(/\s+/)[0]?.toLowerCase();
    if (word === 'on' || word === 'off') return word;
    throw this.error('status', `printed ${JSON.stringify(word ?? '')}, expected on or off`);
  }

  async powerOn(signal?: AbortSignal): Promise<void> {
    await this.call('on', signal);
  }

  /** The script decides how (graceful or not); virt-squeeze only asks for off. */
  async powerOff(_mode: OffMode, signal?: AbortSignal): Promise<void> {
    await this.call('off', signal);
  }

  private async call(verb: 'on' | 'off' | 'status', signal?: AbortSignal): Promise<string> {
    let r;
    try {
      r = await runTool(this.cfg.path, [verb, this.hostId], {
        timeoutMs: this.cfg.timeout,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      throw this.error(verb, `cannot run ${this.cfg.path}: ${(err as NodeJS.ErrnoException).code}`);
    }
    if (r.timedOut) throw this.error(verb, `no answer within ${this.cfg.timeout} ms`);
    if (r.code !== 0) throw this.error(verb, `exited ${r.code}: ${lastLine(r.stderr) || lastLine(r.stdout)}`);
    return r.stdout;
  }

  private error(verb: string, reason: string): BackendError {
    return new BackendError(`host ${this.hostId}: command ${verb}: ${reason}`);
  }
}
