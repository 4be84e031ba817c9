import { readFile, stat } from 'node:fs/promises';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { BackendError, ConfigError } from '../errors.js';
import type { Plan } from '../planner/plan.js';
import { headline } from './format.js';
import { escapeHtml, renderHtml } from './html.js';
import { toPlanJson } from './json.js';
import { renderText } from './text.js';
import type { Notifier } from './types.js';

/** When a run emails its report: every run, runs whose plan acts (or that fail), or failed runs only. */
export type SendPolicy = 'always' | 'on_action' | 'on_error';

/** `starttls` (submission, port 587: TLS required before AUTH), `tls` (implicit TLS, 465), `none` (local relay). */
export type SmtpSecurity = 'starttls' | 'tls' | 'none';

/** The SMTP side of `report.email` in the config, normalised. */
export interface SmtpSettings {
  readonly host: string;
  /** Default by security: 587 starttls, 465 tls, 25 none. */
  readonly port?: number;
  readonly security: SmtpSecurity;
  readonly user?: string;
  /** File holding the password (first line); must not be world-readable. Never the password itself. */
  readonly passwordFile?: string;
  /** PEM file of the CA that signed the server certificate, when not a public CA. */
  readonly caFile?: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly subjectPrefix?: string;
  readonly timeoutMs?: number;
}

/** The report one email carries (what {@link Notifier.send} takes). */
export type EmailReport = Parameters<Notifier['send']>[0];

/** One run as the email tells it. `plan` is absent when the run failed before planning. */
export interface RunReport {
  readonly plan?: Plan;
  readonly cluster?: string;
  readonly runId?: string;
  readonly at: Date;
  readonly mode: 'dry-run' | 'execute';
  /** `ok: false` for a failed run; `text` is the one-line result or error (no secrets). */
  readonly outcome: { readonly ok: boolean; readonly text: string };
}

/** The attached JSON plan's file name. */
export const PLAN_ATTACHMENT = 'plan.json';

const DEFAULT_PORT: Record<SmtpSecurity, number> = { starttls: 587, tls: 465, none: 25 };
const DEFAULT_TIMEOUT_MS = 30_000;

/** True when the plan would change anything (power or migrations). */
export function planActs(plan: Plan | undefined): boolean {
  return plan !== undefined && (plan.powerOn.length > 0 || plan.powerOff.length > 0 || plan.waves.length > 0);
}

/** Whether this run's report is emailed under `policy`. A failed run is emailed under every policy. */
export function shouldSend(policy: SendPolicy, run: Pick<RunReport, 'plan' | 'outcome'>): boolean {
  if (!run.outcome.ok) return true;
  if (policy === 'always') return true;
  return policy === 'on_action' && planActs(run.plan);
}

/** Subject, plain text (the text report), HTML and the JSON plan attached. */
export function composeEmail(run: RunReport, subjectPrefix = '[virt-squeeze]'): EmailReport {
  const where = run.cluster ? ` ${run.cluster}:` : '';
  const what = run.plan ? headline(run.plan) : 'no plan';
  const status = run.outcome.ok ? '' : 'FAILED: ';
  const mode = run.mode === 'dry-run' ? ' (dry run)' : '';
  const subject = `${subjectPrefix}${where} ${status}${what}${mode}`;
  const resultLine = `${run.outcome.ok ? 'Run result' : 'RUN FAILED'}: ${run.outcome.text}`;
  const footer = `virt-squeeze ${run.mode}${run.runId ? `, run ${run.runId}` : ''}, ${run.at.toISOString()}`;
  if (!run.plan) {
    return {
      subject,
      text: `${resultLine}\n\n${footer}\n`,
      html: failureHtml(resultLine, footer),
      attachments: [],
    };
  }
  const text = `${resultLine}\n\n${renderText(run.plan, { cluster: run.cluster })}\n${footer}\n`;
  const html = renderHtml(run.plan, {
    cluster: run.cluster,
    runId: run.runId,
    generatedAt: run.at,
    mode: run.mode,
    outcome: run.outcome,
    attachment: PLAN_ATTACHMENT,
  });
  const json = JSON.stringify(toPlanJson(run.plan), null, 2) + '\n';
  return { subject, text, html, attachments: [{ filename: PLAN_ATTACHMENT, content: json }] };
}

function failureHtml(resultLine: string, footer: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>virt-squeeze</title></head><body style="font-family:Helvetica,Arial,sans-serif"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:680px;background:#ffebe9;border:1px solid #cf222e"><tr><td style="padding:12px;font-size:14px"><b>${escapeHtml(resultLine)}</b></td></tr></table><p style="font-size:11px;color:#59636e">${escapeHtml(footer)}</p></body></html>\n`;
}

/**
 * Reads a secret from a file (first line, trimmed). Refuses a file others can read (DESIGN.md 5.6);
 * the error names the file and its mode, never the content.
 */
export async function readSecretFile(file: string, field = 'password_file'): Promise<string> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (err) {
    throw new ConfigError(`${field}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if ((mode & 0o007) !== 0) {
    throw new ConfigError(
      `${field}: ${file} is accessible to everyone (mode ${(mode & 0o777).toString(8)}); chmod 600 (or 640 with a group) it`,
    );
  }
  const secret = (await readFile(file, 'utf8')).split(/\r?\n/)[0]?.trim() ?? '';
  if (secret === '') throw new ConfigError(`${field}: ${file} is empty`);
  return secret;
}

/** Sends reports by SMTP (nodemailer). Build it with {@link createEmailNotifier}. */
export class EmailNotifier implements Notifier {
  constructor(
    private readonly settings: SmtpSettings,
    private readonly transport: Transporter<SMTPTransport.SentMessageInfo>,
  ) {}

  async send(report: EmailReport): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.settings.from,
        to: [...this.settings.to],
        subject: report.subject,
        text: report.text,
        html: report.html,
        attachments: report.attachments.map((a) => ({
          filename: a.filename,
          content: a.content,
          contentType: a.filename.endsWith('.json') ? 'application/json' : 'text/plain',
        })),
      });
    } catch (err) {
      throw new BackendError(`smtp ${this.settings.host}:${this.settings.port}: ${describeSmtpError(err)}`);
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** Code and server answer only: never the command that was sent (it may carry credentials). */
function describeSmtpError(err: unknown): string {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const answer = e.response ?? e.message ?? String(err);
  return [e.code, e.responseCode, answer.split('\n')[0]].filter((p) => p !== undefined && p !== '').join(' ');
}

/** A notifier for `settings`: reads the password file and the CA file now, so a bad file fails at start. */
export async function createEmailNotifier(settings: SmtpSettings): Promise<EmailNotifier> {
  if (settings.security === 'none' && settings.user !== undefined) {
    throw new ConfigError(
      'report.email: authentication requires security starttls or tls (a password is never sent in clear)',
    );
  }
  const pass = settings.passwordFile
    ? await readSecretFile(settings.passwordFile, 'report.email.password_file')
    : undefined;
  const ca = settings.caFile ? await readCa(settings.caFile) : undefined;
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const port = settings.port || DEFAULT_PORT[settings.security];
  const transport = nodemailer.createTransport({
    host: settings.host,
    port,
    secure: settings.security === 'tls',
    requireTLS: settings.security === 'starttls',
    ignoreTLS: settings.security === 'none',
    auth: settings.user !== undefined ? { user: settings.user, pass: pass ?? '' } : undefined,
    tls: { minVersion: 'TLSv1.2', ...(ca ? { ca } : {}) },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return new EmailNotifier({ ...settings, port }, transport);
}

async function readCa(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `report.email.ca_file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}
