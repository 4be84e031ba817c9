import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

/** The daemon in its own process, stopped by a real signal (as systemd does), sent to its PID. */
const here = path.dirname(fileURLToPath(import.meta.url));
const children: number[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const pid of children.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function runChild(signal: NodeJS.Signals, env: Record<string, string>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'vs-daemon-'));
  dirs.push(dir);
  const file = path.join(dir, 'progress');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'signal-child.ts'), file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) children.push(child.pid);
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []);
  const deadline = Date.now() + 30_000;
  while (!lines().includes('start')) {
    if (Date.now() > deadline) throw new Error(`child never started a run; stdout:\n${stdout}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const signalledAt = Date.now();
  child.kill(signal);
  const code = await exited;
  return { code, lines: lines(), stopMs: Date.now() - signalledAt, stdout };
}

describe('daemon process and signals', () => {
  it('SIGTERM: the run in progress finishes, no new run starts, the process exits 0', async () => {
    const r = await runChild('SIGTERM', { RUN_MS: '1500' });
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(['start', 'end', 'stopped']);
    const logs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; run_id: string; signal?: string });
    expect(logs.every((l) => l.run_id === 'signal-child')).toBe(true);
    expect(logs.some((l) => l.msg === 'signal received' && l.signal === 'SIGTERM')).toBe(true);
  });

  it('SIGINT with a run longer than the grace period: aborted, then exit 0 within the bound', async () => {
    const r = await runChild('SIGINT', { RUN_MS: '60000', GRACE_MS: '300' });
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(['start', 'aborted', 'stopped']);
    expect(r.stopMs).toBeLessThan(10_000);
  });
});
