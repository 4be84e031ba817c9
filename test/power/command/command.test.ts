import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError } from '../../../src/errors.js';
import { CommandDriver, commandSchema } from '../../../src/power/command/index.js';

let dir: string;
/** A site script keeping each host's power in a file and logging its arguments. */
const SCRIPT = `#!/bin/sh
dir="$(dirname "$0")"
echo "$*" >> "$dir/calls.log"
f="$dir/$2.power"
case "$1" in
  on) echo on > "$f" ;;
  off) echo off > "$f" ;;
  status) cat "$f" 2>/dev/null || echo off ;;
  *) echo "usage: $0 on|off|status HOST" >&2; exit 2 ;;
esac
`;

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body, { mode: 0o755 });
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vs-cmd-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('command driver (site script on|off|status HOST)', () => {
  it('calls the script with the verb and the host id, and reads on/off back', async () => {
    const d = new CommandDriver('node-7', commandSchema.parse({ path: script('oob', SCRIPT) }));
    expect(await d.status()).toBe('off');
    await d.powerOn();
    expect(await d.status()).toBe('on');
    await d.powerOff('soft');
    expect(await d.status()).toBe('off');
    expect(readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n')).toEqual([
      'status node-7',
      'on node-7',
      'status node-7',
      'off node-7',
      'status node-7',
    ]);
  });

  it('refuses a status answer other than on or off', async () => {
    const d = new CommandDriver(
      'h',
      commandSchema.parse({ path: script('garbage', '#!/bin/sh\necho maybe\n') }),
    );
    await expect(d.status()).rejects.toThrow(/host h: command status: printed "maybe", expected on or off/);
  });

  it('reports a failing script with its exit code and last error line', async () => {
    const d = new CommandDriver(
      'h',
      commandSchema.parse({ path: script('fails', '#!/bin/sh\necho "BMC busy" >&2\nexit 3\n') }),
    );
    const err = await d.powerOn().catch((e) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toBe('host h: command on: exited 3: BMC busy');
  });

  it('kills a script that hangs at the deadline', async () => {
    const d = new CommandDriver(
      'h',
      commandSchema.parse({ path: script('hangs', '#!/bin/sh\nsleep 30\necho late\n'), timeout: '500ms' }),
    );
    const started = Date.now();
    await expect(d.powerOn()).rejects.toThrow(/no answer within 500 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('requires an absolute path in the config', () => {
    expect(commandSchema.safeParse({ path: 'oob.sh' }).error?.issues[0]?.message).toBe(
      'must be an absolute path',
    );
  });
});
