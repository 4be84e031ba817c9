import { Writable } from 'node:stream';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  REDACTED,
  addLogOptions,
  createLogger,
  forRun,
  levelFromFlags,
  newRunId,
  redactSecrets,
  usePretty,
} from '../../src/log.js';

function sink(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('createLogger', () => {
  it('writes JSON lines with the run id on every line, also from child loggers', () => {
    const out = sink();
    const log = createLogger({ destination: out.stream, isTTY: false, runId: 'run-42' });
    log.info({ hosts: 3 }, 'planned');
    log.child({ host: 'kvm-01' }).warn('slow');
    const lines = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'info', run_id: 'run-42', hosts: 3, msg: 'planned' });
    expect(lines[1]).toMatchObject({ level: 'warn', run_id: 'run-42', host: 'kvm-01', msg: 'slow' });
    expect(typeof lines[0]?.time).toBe('string');
  });

  it('redacts secret fields at any depth, in log objects and in bindings, but keeps file paths', () => {
    const out = sink();
    const log = createLogger({ destination: out.stream, isTTY: false });
    log.info(
      {
        smtp: { host: 'mx', auth: { user: 'ops', pass: 'hunter2' }, password_file: '/etc/vs/smtp.pw' },
        bmcs: [{ host: 'b1', password: 'ipmi-secret' }],
        apiToken: 'tok-123',
        sshKey: 'PRIVATE',
      },
      'config',
    );
    forRun(log, 'r1').child({ secret: 'in-binding' }).info('x');
    const text = out.lines().join('\n');
    for (const secret of ['hunter2', 'ipmi-secret', 'tok-123', 'PRIVATE', 'in-binding']) {
      expect(text).not.toContain(secret);
    }
    const first = JSON.parse(out.lines()[0] ?? '{}') as { smtp: { auth: unknown; password_file: string } };
    expect(first.smtp.auth).toEqual({ user: 'ops', pass: REDACTED });
    expect(first.smtp.password_file).toBe('/etc/vs/smtp.pw');
  });

  it('respects the level', () => {
    const out = sink();
    const log = createLogger({ destination: out.stream, isTTY: false, level: 'warn' });
    log.info('hidden');
    log.debug('hidden');
    log.error('shown');
    expect(out.lines().map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['shown']);
  });

  it('prints human-readable lines when pretty, with the run id and without colour codes off a TTY', () => {
    const out = sink();
    const log = createLogger({ destination: out.stream, isTTY: false, format: 'pretty', runId: 'run-7' });
    log.info({ password: 'hunter2' }, 'hello operator');
    const text = out.lines().join('\n');
    expect(text).toContain('INFO');
    expect(text).toContain('hello operator');
    expect(text).toContain('run-7');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('{"');
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/\u001b\[/);
  });
});

describe('log helpers', () => {
  it('usePretty: auto follows the terminal, explicit formats win', () => {
    expect(usePretty('auto', true)).toBe(true);
    expect(usePretty('auto', false)).toBe(false);
    expect(usePretty('json', true)).toBe(false);
    expect(usePretty('pretty', false)).toBe(true);
  });

  it('levelFromFlags: quiet -> warn, -v -> debug, -vv -> trace, else configured', () => {
    expect(levelFromFlags({})).toBe('info');
    expect(levelFromFlags({}, 'error')).toBe('error');
    expect(levelFromFlags({ quiet: true })).toBe('warn');
    expect(levelFromFlags({ verbose: true })).toBe('debug');
    expect(levelFromFlags({ verbose: 1, quiet: true })).toBe('debug');
    expect(levelFromFlags({ verbose: 2 })).toBe('trace');
  });

  it('addLogOptions parses -v, -vv and --quiet with commander', () => {
    const parse = (args: string[]) => {
      const cmd = addLogOptions(new Command('run').exitOverride());
      cmd.parse(args, { from: 'user' });
      return levelFromFlags(cmd.opts<{ verbose: number; quiet?: boolean }>());
    };
    expect(parse([])).toBe('info');
    expect(parse(['-q'])).toBe('warn');
    expect(parse(['--verbose'])).toBe('debug');
    expect(parse(['-v', '-v'])).toBe('trace');
  });

  it('newRunId: sortable UTC stamp plus random suffix', () => {
    const a = newRunId(new Date('2026-11-21T11:35:07.123Z'));
    expect(a).toMatch(/^20261121T113507Z-[0-9a-f]{6}$/);
    expect(newRunId()).not.toBe(newRunId());
  });

  it('redactSecrets leaves non-secret data intact and does not mutate its input', () => {
    const input = { a: 1, nested: { token: 'x', list: [{ key: 'k', name: 'n' }] } };
    expect(redactSecrets(input)).toEqual({
      a: 1,
      nested: { token: REDACTED, list: [{ key: REDACTED, name: 'n' }] },
    });
    expect(input.nested.token).toBe('x');
  });
});
