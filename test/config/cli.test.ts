import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/main.js';
import { runCli } from '../cli-process.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const exampleConfig = join(repoRoot, 'config/example.yaml');

function capture(): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    stdout: () => out,
    stderr: () => err,
  };
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsq-config-cli-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('virt-squeeze config check', () => {
  it('accepts the example config without warnings (exit 0)', async () => {
    const io = capture();
    expect(await main(['config', 'check', '--config', exampleConfig], io)).toBe(0);
    expect(io.stdout()).toBe(`OK: ${exampleConfig}\n`);
    expect(io.stderr()).toBe('');
  });

  it('prints warnings after OK (exit 0)', async () => {
    const file = join(dir, 'warn.yaml');
    await writeFile(file, 'cluster_file: warn.yaml\nthresholds: {minimal: 3, target: 3}\n');
    const io = capture();
    expect(await main(['config', 'check', '-c', file], io)).toBe(0);
    expect(io.stdout().split('\n')).toEqual([
      `OK: ${file}`,
      `warning: ${file}:2: thresholds.minimal: no dead band: minimal = target = 3; hosts may be woken and powered off on alternate runs (set target above minimal)`,
      '',
    ]);
  });

  it('a bad config prints the error lines on stderr and exits 2', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'mode: dry-run\nthresholds:\n  minimal: 5\n  target: 3\n');
    const io = capture();
    expect(await main(['config', 'check', '--config', file], io)).toBe(2);
    expect(io.stdout()).toBe('');
    expect(io.stderr()).toBe(
      `virt-squeeze: ${file}:3: thresholds.minimal: 5 is above thresholds.target 3: expected minimal <= target\n`,
    );
  });

  it('a missing config file exits 2 with one line', async () => {
    const io = capture();
    const file = join(dir, 'absent.yaml');
    expect(await main(['config', 'check', '--config', file], io)).toBe(2);
    expect(io.stderr()).toBe(
      `virt-squeeze: ${file}: no such config file (pass --config FILE, or start from config/example.yaml)\n`,
    );
  });

  it('--help shows the default path and examples', async () => {
    const io = capture();
    expect(await main(['config', 'check', '--help'], io)).toBe(0);
    expect(io.stdout()).toContain('/etc/virt-squeeze/config.yaml');
    expect(io.stdout()).toContain('virt-squeeze config check --config config/example.yaml');
  });
});

describe('virt-squeeze config schema', () => {
  it('prints a strict JSON Schema of the config (input side)', async () => {
    const io = capture();
    expect(await main(['config', 'schema'], io)).toBe(0);
    const schema = JSON.parse(io.stdout()) as {
      $schema: string;
      additionalProperties: boolean;
      properties: Record<string, { properties?: Record<string, { type?: unknown }> }>;
    };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.standard_instance?.properties?.memory?.type).toEqual(['number', 'string']);
  });
});

describe('the built CLI', () => {
  it('config check runs as a process: exit 0 on the example, 2 on a bad file', async () => {
    const run = (args: string[]) => runCli(args, { timeoutMs: 60_000 });
    const good = await run(['config', 'check', '--config', 'config/example.yaml']);
    expect(good.code).toBe(0);
    expect(good.stdout).toBe(`OK: ${exampleConfig}\n`);
    const file = join(dir, 'proc.yaml');
    await writeFile(file, 'safety:\n  min_online_hosts: zero\n');
    const bad = await run(['config', 'check', '--config', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      `virt-squeeze: ${file}:2: safety.min_online_hosts: expected a number, got "zero"\n`,
    );
  });
});
