import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../src/config/load.js';
import { resolvePolicy } from '../../src/config/policy.js';
import { configSchema } from '../../src/config/schema.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const example = join(repoRoot, 'config/example.yaml');

interface JsonSchemaNode {
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
}

/** Every key of the config, at any depth (`hosts` items included). */
function allKeys(node: JsonSchemaNode): string[] {
  const own = Object.entries(node.properties ?? {}).flatMap(([k, v]) => [k, ...allKeys(v)]);
  return node.items ? [...own, ...allKeys(node.items)] : own;
}

describe('config/example.yaml', () => {
  it('loads without errors or warnings and plans against the demo cluster', async () => {
    const loaded = await loadConfig(example);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.mode).toBe('dry-run');
    expect(loaded.config.cluster_file).toBe(join(repoRoot, 'config/demo-cluster.json'));
  });

  it('documents every key of the schema (set or commented out)', async () => {
    const text = await readFile(example, 'utf8');
    const keys = allKeys(z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchemaNode);
    expect(keys.length).toBeGreaterThan(30);
    expect(keys.filter((k) => !new RegExp(`(^|[\\s#])${k}:`, 'm').test(text))).toEqual([]);
  });

  it('resolves to a policy with a dead band', async () => {
    const policy = resolvePolicy((await loadConfig(example)).config, {}, {});
    expect(policy.thresholds.minimal).toBeLessThan(policy.thresholds.target);
    expect(policy.standard).toEqual({ cpu: 2, memMiB: 4096, diskGiB: 0 });
  });
});
