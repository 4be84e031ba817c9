import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../src/state/index.js';
import { cliCommand, repoRoot, runCli } from '../cli-process.js';
import { startSmtp, writeFileWithMode, type SmtpFixture } from '../report/smtp-fixture.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vs-run-'));
const demo = path.join(repoRoot, 'config/demo-cluster.json');
let smtp: SmtpFixture;

beforeAll(async () => {
  smtp = await startSmtp();
}, 60_000);
afterAll(async () => {
  await smtp?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A config on the demo cluster, its state in the test dir, reports to the SMTP fixture. */
function config(name: string, extra = ''): string {
  const pw = writeFileWithMode(dir, `${name}.pw`, `${smtp.password}\n`, 0o600);
  const text = `cluster_file: ${demo}
thresholds: { minimal: 16, target: 32 }
state: { path: ${path.join(dir, `${name}.db`)} }
schedule: '*/2 * * * * *'
report:
  send: always
  metrics_file: ${path.join(dir, `${name}.prom`)}
  email:
    to: [ops@example.test]
    from: virt-squeeze@example.test
    host: 127.0.0.1
    port: ${smtp.port}
    security: starttls
    user: ${smtp.user}
    password_file: ${pw}
    ca_file: ${smtp.caFile}
${extra}`;
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('virt-squeeze run', () => {
  it('plans the demo cluster in a dry run, emails the report, writes metrics, and changes nothing', async () => {
    const cfg = config('dry');
    const r = await runCli(['run', '--config', cfg, '--report']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Decision:\s+SQUEEZE/);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(JSON.parse(l).run_id).toMatch(/^\d{8}T\d{6}Z-/);
    const mail = await smtp.next(30_000);
    expect(mail.mail.subject).toMatch(/squeeze/i);
    expect(mail.mail.attachments.map((a) => a.filename)).toContain('plan.json');
    expect(mail.raw).not.toContain(smtp.password);
    const metrics = readFileSync(path.join(dir, 'dry.prom'), 'utf8');
    expect(metrics).toMatch(/^virt_squeeze_last_run_timestamp_seconds \d+/m);
    expect(existsSync(path.join(dir, 'dry.db'))).toBe(false); // a dry run opens no store for writing
  }, 90_000);

  it('is silent on success with --quiet (for cron)', async () => {
    const r = await runCli(['run', '--config', config('quiet', ''), '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    await smtp.next(30_000);
  }, 90_000);

  it('refuses execute mode on a cluster file with exit 2 and emails the failure', async () => {
    const r = await runCli(['run', '--config', config('exec'), '--execute', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/execute acts on live libvirt hosts/);
    const mail = await smtp.next(30_000);
    expect(mail.mail.text).toMatch(/execute acts on live libvirt hosts/);
  }, 90_000);

  it('exits 4 when another run holds the lock', async () => {
    const cfg = config('locked', '');
    const live = cfg.replace(/\.yaml$/, '-live.yaml');
    // A live (libvirt test driver) cluster so that execute mode gets as far as the lock.
    writeFileSync(
      live,
      readFileSync(cfg, 'utf8').replace(/^cluster_file: .*$/m, '') +
        'hosts:\n  - { id: test, uri: "test:///default" }\n',
    );
    const store = openStateStore(path.join(dir, 'locked.db'));
    const lock = store.acquireLock('holder');
    try {
      const r = await runCli(['run', '--config', live, '--execute', '--quiet']);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/another run holds the lock: run holder/);
    } finally {
      lock.release();
      store.close();
    }
    await smtp.next(30_000);
  }, 90_000);
});

describe('virt-squeeze daemon', () => {
  it('runs on its schedule, emails each run, and stops cleanly on SIGTERM', async () => {
    const cfg = config('daemon');
    const [cmd, ...pre] = await cliCommand();
    const child = spawn(cmd!, [...pre, 'daemon', '--config', cfg, '--quiet'], {
      cwd: repoRoot,
      stdio: 'pipe',
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    try {
      const first = await smtp.next(60_000);
      const second = await smtp.next(60_000);
      expect(first.mail.subject).toMatch(/squeeze/i);
      expect(second.mail.messageId).not.toBe(first.mail.messageId);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, stderr).toBe(0);
  }, 150_000);
});
