import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError, ConfigError } from '../../src/errors.js';
import {
  PLAN_ATTACHMENT,
  composeEmail,
  createEmailNotifier,
  readSecretFile,
  shouldSend,
  type RunReport,
  type SmtpSettings,
} from '../../src/report/email.js';
import { toPlanJson } from '../../src/report/json.js';
import { renderText } from '../../src/report/text.js';
import { nothingPlan, squeezePlan } from '../golden/plans.js';
import { settingsFor, startSmtp, writeFileWithMode, type SmtpFixture } from './smtp-fixture.js';

const at = new Date('2026-11-21T03:00:00Z');

function runOf(extra: Partial<RunReport> = {}): RunReport {
  return {
    plan: squeezePlan(),
    cluster: 'file:demo-cluster.json',
    runId: 'r-1',
    at,
    mode: 'dry-run',
    outcome: { ok: true, text: 'dry run: nothing changed' },
    ...extra,
  };
}

describe('send policy', () => {
  const ok = { ok: true, text: '' };
  const failed = { ok: false, text: 'boom' };
  it.each([
    ['always', squeezePlan(), ok, true],
    ['always', nothingPlan(), ok, true],
    ['on_action', squeezePlan(), ok, true],
    ['on_action', nothingPlan(), ok, false],
    ['on_action', undefined, failed, true],
    ['on_error', squeezePlan(), ok, false],
    ['on_error', nothingPlan(), failed, true],
  ] as const)('%s, case %#: sends=%s', (policy, plan, outcome, expected) => {
    expect(shouldSend(policy, { plan, outcome })).toBe(expected);
  });
});

describe('composeEmail', () => {
  it('subject says cluster, decision, counts and dry run; text is the text report; JSON attached', () => {
    const mail = composeEmail(runOf());
    expect(mail.subject).toBe(
      '[virt-squeeze] file:demo-cluster.json: squeeze: 2 host(s) to standby, 4 migration(s), est. 390 W saved (dry run)',
    );
    expect(mail.text).toContain(renderText(squeezePlan(), { cluster: 'file:demo-cluster.json' }));
    expect(mail.attachments.map((a) => a.filename)).toEqual([PLAN_ATTACHMENT]);
    expect(JSON.parse(mail.attachments[0]?.content ?? '')).toEqual(toPlanJson(squeezePlan()));
  });

  it('a run that failed before planning still makes a short report, marked FAILED', () => {
    const mail = composeEmail(
      runOf({ plan: undefined, outcome: { ok: false, text: 'inventory: kvm-01 unreachable' } }),
    );
    expect(mail.subject).toContain('FAILED: no plan');
    expect(mail.text).toContain('RUN FAILED: inventory: kvm-01 unreachable');
    expect(mail.html).toContain('inventory: kvm-01 unreachable');
    expect(mail.attachments).toEqual([]);
  });
});

describe('readSecretFile', () => {
  let smtp: SmtpFixture;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(async () => smtp?.close());

  it('reads the first line of a 0600 file and refuses a world-readable one without showing it', async () => {
    const good = writeFileWithMode(smtp.dir, 'pw-ok', 's3cret\nignored\n', 0o600);
    expect(await readSecretFile(good)).toBe('s3cret');
    const bad = writeFileWithMode(smtp.dir, 'pw-open', 's3cret\n', 0o644);
    const err = await readSecretFile(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/pw-open is accessible to everyone \(mode 644\)/);
    expect((err as Error).message).not.toContain('s3cret');
    await expect(readSecretFile(`${smtp.dir}/missing`)).rejects.toThrow(/cannot read .*missing: ENOENT/);
  });
});

describe('EmailNotifier against a real SMTP server (STARTTLS + AUTH)', () => {
  let smtp: SmtpFixture;
  let settings: SmtpSettings;
  beforeAll(async () => {
    smtp = await startSmtp();
    settings = settingsFor(smtp, ['ops@example.test', 'oncall@example.test']);
  });
  afterAll(async () => smtp?.close());

  it('delivers over TLS as the user; subject, text, HTML and the JSON attachment parse back', async () => {
    const notifier = await createEmailNotifier(settings);
    const report = composeEmail(runOf());
    await notifier.send(report);
    notifier.close();
    const got = await smtp.next();
    expect(got.secure).toBe(true);
    expect(got.user).toBe(smtp.user);
    expect(got.mailFrom).toBe('virt-squeeze@example.test');
    expect(got.rcptTo).toEqual(['ops@example.test', 'oncall@example.test']);
    expect(got.mail.subject).toBe(report.subject);
    expect(got.mail.text?.trim()).toBe(report.text.trim());
    expect(got.mail.html).toContain('SQUEEZE');
    for (const h of squeezePlan().hosts) expect(got.mail.html).toContain(h.why);
    const attachment = got.mail.attachments.find((a) => a.filename === PLAN_ATTACHMENT);
    expect(attachment?.contentType).toBe('application/json');
    expect(JSON.parse(attachment?.content.toString('utf8') ?? '')).toEqual(toPlanJson(squeezePlan()));
    expect(got.raw).not.toContain(smtp.password);
  });

  it('a wrong password fails with the server answer, never the password', async () => {
    const wrong = writeFileWithMode(smtp.dir, 'wrong.pw', 'not-the-password\n', 0o600);
    const notifier = await createEmailNotifier({ ...settings, passwordFile: wrong });
    const err = await notifier.send(composeEmail(runOf())).catch((e: unknown) => e);
    notifier.close();
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/^smtp 127\.0\.0\.1:\d+: EAUTH 535/);
    expect(JSON.stringify(err) + String(err)).not.toContain('not-the-password');
  });

  it('refuses a server whose certificate it cannot verify (no CA given)', async () => {
    const notifier = await createEmailNotifier({ ...settings, caFile: undefined });
    const err = await notifier.send(composeEmail(runOf())).catch((e: unknown) => e);
    notifier.close();
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/certificate/i);
    expect(smtp.received).toHaveLength(0);
  });

  it('refuses to authenticate without TLS', async () => {
    await expect(createEmailNotifier({ ...settings, security: 'none' })).rejects.toThrow(ConfigError);
  });
});
