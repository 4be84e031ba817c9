import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { validate } from 'node-cron';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The shipped units checked by systemd's own tools. They name the installed binary
 * (/usr/local/bin/virt-squeeze, see the README); verify runs on a temporary copy whose ExecStart
 * points at this checkout's node and dist/main.js, so the check also covers "the command exists".
 */
const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const unitsDir = path.join(repoRoot, 'systemd');
const INSTALLED_BIN = '/usr/local/bin/virt-squeeze';
const SERVICES = ['virt-squeeze.service', 'virt-squeeze-daemon.service'] as const;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vs-units-'));
  for (const f of readdirSync(unitsDir)) {
    const text = readFileSync(path.join(unitsDir, f), 'utf8');
    writeFileSync(
      path.join(dir, f),
      text.replaceAll(INSTALLED_BIN, `${process.execPath} ${repoRoot}/dist/main.js`),
    );
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function analyze(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', args, { cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `Key=value` lines of a section (repeated keys kept in order). */
function section(file: string, name: string): Array<[string, string]> {
  const text = readFileSync(path.join(unitsDir, file), 'utf8');
  const out: Array<[string, string]> = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || line === '') continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) current = head[1] ?? '';
    else if (current === name) {
      const eq = line.indexOf('=');
      out.push([line.slice(0, eq), line.slice(eq + 1)]);
    }
  }
  return out;
}

const values = (file: string, sec: string, key: string) =>
  section(file, sec)
    .filter(([k]) => k === key)
    .map(([, v]) => v);

describe('systemd-analyze verify', () => {
  it('passes on all units, with no warning at all', async () => {
    const r = await analyze(
      ['verify', './virt-squeeze.service', './virt-squeeze.timer', './virt-squeeze-daemon.service'],
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('would catch a mistake: a misspelt key is reported', async () => {
    const text = readFileSync(path.join(dir, 'virt-squeeze.service'), 'utf8').replace(
      'NoNewPrivileges=',
      'NoNewPrivilege=',
    );
    writeFileSync(path.join(dir, 'broken.service'), text);
    const r = await analyze(['verify', './broken.service'], dir);
    expect(r.stderr).toContain("Unknown key 'NoNewPrivilege'");
  });

  it('the shipped units point at the documented install path, and at nothing else missing', async () => {
    const shipped = mkdtempSync(path.join(tmpdir(), 'vs-units-shipped-'));
    try {
      for (const f of SERVICES) copyFileSync(path.join(unitsDir, f), path.join(shipped, f));
      const r = await analyze(['verify', ...SERVICES.map((f) => `./${f}`)], shipped);
      const problems = r.stderr.trim().split('\n');
      expect(problems).toEqual(
        SERVICES.map((f) => `${f}: Command ${INSTALLED_BIN} is not executable: No such file or directory`),
      );
    } finally {
      rmSync(shipped, { recursive: true, force: true });
    }
  });

  for (const unit of SERVICES) {
    it(`${unit}: systemd-analyze security rates the exposure at most 2.0`, async () => {
      const r = await analyze(['security', '--offline=yes', '--no-pager', `./${unit}`], dir);
      const m = /Overall exposure level for [\w.-]+: (\d+\.\d+)/.exec(r.stdout);
      expect(m, r.stdout.slice(-500)).not.toBeNull();
      expect(Number(m?.[1])).toBeLessThanOrEqual(2.0);
    });
  }
});

describe('unit contents', () => {
  it('virt-squeeze.service: oneshot run, hardened, writes only state and metrics', () => {
    const f = 'virt-squeeze.service';
    expect(values(f, 'Service', 'Type')).toEqual(['oneshot']);
    expect(values(f, 'Service', 'ExecStart')).toEqual([
      `${INSTALLED_BIN} run --config /etc/virt-squeeze/config.yaml`,
    ]);
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['AmbientCapabilities', ''],
    ] as const) {
      expect(values(f, 'Service', key), key).toEqual([value]);
    }
    expect(values(f, 'Service', 'ReadWritePaths')).toEqual([
      '/var/lib/virt-squeeze',
      '-/var/lib/prometheus/node-exporter',
    ]);
  });

  it('the daemon unit runs `daemon`, restarts on failure, stops after the daemon grace (5 min + 30 s)', () => {
    const f = 'virt-squeeze-daemon.service';
    expect(values(f, 'Service', 'ExecStart')).toEqual([
      `${INSTALLED_BIN} daemon --config /etc/virt-squeeze/config.yaml`,
    ]);
    expect(values(f, 'Service', 'Restart')).toEqual(['on-failure']);
    expect(values(f, 'Service', 'TimeoutStopSec')).toEqual(['6min']);
    expect(values(f, 'Unit', 'Conflicts')[0]).toContain('virt-squeeze.timer');
    // Same hardening as the oneshot unit, apart from what makes it a long-running service.
    const differ = new Set([
      'Type',
      'ExecStart',
      'Restart',
      'RestartSec',
      'TimeoutStartSec',
      'TimeoutStopSec',
    ]);
    const hardening = (file: string) => section(file, 'Service').filter(([k]) => !differ.has(k));
    expect(hardening(f)).toEqual(hardening('virt-squeeze.service'));
  });

  it('the timer fires every 15 minutes, persistent, with a random delay', async () => {
    const f = 'virt-squeeze.timer';
    expect(values(f, 'Timer', 'Persistent')).toEqual(['yes']);
    expect(values(f, 'Timer', 'RandomizedDelaySec')).toEqual(['2min']);
    const [calendar = ''] = values(f, 'Timer', 'OnCalendar');
    const r = await analyze(['calendar', '--iterations=4', calendar], dir);
    const times = [...r.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+) UTC/g)].map((m) =>
      Date.parse(`${m[1]?.replace(' ', 'T')}Z`),
    );
    expect(times).toHaveLength(4);
    for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBe(15 * 60_000);
  });

  it('the cron.d example: valid schedule every 15 minutes, as the service user, same command, quiet', () => {
    const lines = readFileSync(path.join(unitsDir, 'virt-squeeze.cron'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#') && !/^[A-Z]+=/.test(l));
    expect(lines).toHaveLength(1);
    const fields = (lines[0] ?? '').split(/\s+/);
    expect(validate(fields.slice(0, 5).join(' '))).toBe(true);
    expect(fields.slice(0, 5)).toEqual(['*/15', '*', '*', '*', '*']);
    expect(fields[5]).toBe(values('virt-squeeze.service', 'Service', 'User')[0]);
    expect(fields.slice(6).join(' ')).toBe(
      `${INSTALLED_BIN} run --quiet --config /etc/virt-squeeze/config.yaml`,
    );
  });
});
