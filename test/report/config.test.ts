import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_SCHEDULE, smtpSettings } from '../../src/report/config.js';

const FILE = '/etc/virt-squeeze/config.yaml';
const parse = (text: string) => parseConfigText(text, FILE).config;
const errorOf = (text: string): string => {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('report, schedule and logging config sections', () => {
  it('an empty config gets the operations defaults: 15-minute schedule, on_action, no email, info/auto logs', () => {
    const c = parse('');
    expect(c.schedule).toBe(DEFAULT_SCHEDULE);
    expect(c.report).toEqual({ send: 'on_action' });
    expect(c.logging).toEqual({ level: 'info', format: 'auto' });
  });

  it('parses a full email section, normalising the timeout and resolving files beside the config', () => {
    const c = parse(
      [
        "schedule: '0 */5 * * * *'",
        'report:',
        '  send: always',
        '  metrics_file: /var/lib/prometheus/node-exporter/virt-squeeze.prom',
        '  email:',
        '    to: [ops@example.com, oncall@example.com]',
        '    from: virt-squeeze@example.com',
        '    host: smtp.example.com',
        '    user: vs',
        '    password_file: smtp.password',
        '    timeout: 1m',
        'logging: {level: debug, format: json}',
      ].join('\n'),
    );
    expect(c.schedule).toBe('0 */5 * * * *');
    expect(c.report.send).toBe('always');
    const email = c.report.email;
    expect(email).toMatchObject({ security: 'starttls', subject_prefix: '[virt-squeeze]', timeout: 60_000 });
    expect(email && smtpSettings(email, path.dirname(FILE))).toEqual({
      host: 'smtp.example.com',
      port: undefined,
      security: 'starttls',
      user: 'vs',
      passwordFile: '/etc/virt-squeeze/smtp.password',
      caFile: undefined,
      from: 'virt-squeeze@example.com',
      to: ['ops@example.com', 'oncall@example.com'],
      subjectPrefix: '[virt-squeeze]',
      timeoutMs: 60_000,
    });
    expect(c.logging).toEqual({ level: 'debug', format: 'json' });
  });

  it.each([
    ["schedule: 'every 15 minutes'\n", /schedule: invalid cron expression "every 15 minutes"/],
    ['report: {send: sometimes}\n', /report\.send/],
    ['report: {metrics_file: /tmp/vs.txt}\n', /report\.metrics_file: expected a file name ending in \.prom/],
    [
      'report: {email: {to: [ops], from: a@example.com, host: h}}\n',
      /report\.email\.to\[0\]: expected an email address/,
    ],
    [
      'report: {email: {to: [a@example.com], from: a@example.com, host: h, user: u}}\n',
      /user and password_file go together/,
    ],
    [
      'report: {email: {to: [a@example.com], from: a@example.com, host: h, security: none, user: u, password_file: p}}\n',
      /authentication needs security starttls or tls/,
    ],
    [
      'report: {email: {to: [a@example.com], from: a@example.com, host: h, password: hunter2}}\n',
      /password: unknown key/,
    ],
    ['logging: {level: loud}\n', /logging\.level/],
  ])('refuses %j', (text, message) => {
    const error = errorOf(text);
    expect(error).toMatch(message);
    expect(error).toContain(FILE);
    expect(error).not.toContain('hunter2');
  });
});
