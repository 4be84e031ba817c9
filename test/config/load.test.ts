import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsq-config-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

async function loadError(path: string): Promise<ConfigError> {
  const err = await loadConfig(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('loadConfig', () => {
  it('returns the absolute path, its directory, the config and warnings', async () => {
    await write('cluster.json', '{}');
    const file = await write('ok.yaml', 'cluster_file: cluster.json\nthresholds: {minimal: 2, target: 2}\n');
    const loaded = await loadConfig(file);
    expect(loaded.path).toBe(file);
    expect(loaded.dir).toBe(dir);
    expect(loaded.config.cluster_file).toBe(join(dir, 'cluster.json'));
    expect(loaded.warnings).toEqual([
      expect.stringMatching(/^.*ok\.yaml:2: thresholds\.minimal: no dead band/),
    ]);
  });

  it('resolves cluster_file against the config directory, keeping a ganeti: prefix', async () => {
    await mkdir(join(dir, 'sub'), { recursive: true });
    await write('sub/cluster.data', 'group|uuid|preferred|\n');
    const file = await write('sub/g.yaml', 'cluster_file: "ganeti:cluster.data"\n');
    expect((await loadConfig(file)).config.cluster_file).toBe(`ganeti:${join(dir, 'sub', 'cluster.data')}`);
  });

  it('a missing cluster_file is an error on its line', async () => {
    const file = await write('nofile.yaml', 'mode: dry-run\ncluster_file: nope.json\n');
    expect((await loadError(file)).message).toBe(
      `${file}:2: cluster_file: no such file ${join(dir, 'nope.json')}`,
    );
  });

  it('a missing config file names the file and how to start', async () => {
    const file = join(dir, 'absent.yaml');
    expect((await loadError(file)).message).toBe(
      `${file}: no such config file (pass --config FILE, or start from config/example.yaml)`,
    );
  });

  it('a directory is not a config file', async () => {
    expect((await loadError(dir)).message).toBe(`${dir}: is a directory, expected a YAML config file`);
  });

  it('relative paths are resolved from the working directory', async () => {
    const file = await write('rel.yaml', 'cluster_file: cluster.json\n');
    const loaded = await loadConfig(relative(process.cwd(), file));
    expect(loaded.path).toBe(file);
    expect(loaded.config.cluster_file).toBe(join(dir, 'cluster.json'));
  });

  it('YAML syntax errors give file, line and column', async () => {
    const file = await write('syntax.yaml', 'mode: dry-run\nthresholds:\n  minimal: [1, 2\n');
    const message = (await loadError(file)).message;
    expect(message.split('\n')[0]).toMatch(new RegExp(`^${file}:\\d+:\\d+: YAML syntax error: .+`));
  });

  it('duplicate keys are a YAML error on the second key', async () => {
    const file = await write('dup.yaml', 'mode: dry-run\nmode: execute\n');
    expect((await loadError(file)).message).toBe(`${file}:2:1: YAML syntax error: Map keys must be unique`);
  });

  it('several problems give one line each, in file order, the first self-contained', async () => {
    const file = await write(
      'many.yaml',
      [
        'migration:',
        '  bandwidth: fast',
        'thresholds:',
        '  minimal: lots',
        'standard_instance:',
        '  vcpus: 2',
        '  memory: 4GB',
        'colour: blue',
      ].join('\n'),
    );
    expect((await loadError(file)).message.split('\n')).toEqual([
      `${file}:2: migration.bandwidth: expected a bandwidth such as 1000MiB/s, 1GiB/s, 10Gbit/s or a plain number of MiB/s, got "fast"`,
      `${file}:4: thresholds.minimal: expected a number, got "lots"`,
      `${file}:7: standard_instance.memory: ambiguous unit "GB" in "4GB": write 4GiB (binary, 1024-based)`,
      `${file}:8: colour: unknown key (allowed: mode, cluster_file, standard_instance, thresholds, overcommit, safety, migration, anti_affinity, usage, state, power, hosts, schedule, report, logging)`,
    ]);
  });

  it('never includes a stack trace in the message', async () => {
    const file = await write('bad.yaml', 'safety: {min_online_hosts: 0}\n');
    const err = await loadError(file);
    expect(err.message).not.toMatch(/\n\s+at /);
    expect(err.message.split('\n')).toHaveLength(1);
  });
});
