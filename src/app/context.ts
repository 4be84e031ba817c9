import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { applyHostOverrides, resolvePolicy, type PolicyOverrides } from '../config/policy.js';
import { ConfigError } from '../errors.js';
import { loadClusterFile, type LoadOptions } from '../inventory/file/index.js';
import type { InventoryResult } from '../inventory/types.js';
import type { Cluster } from '../model/cluster.js';
import type { Policy } from '../model/policy.js';

/** Default configuration path (DESIGN.md 4.3). */
export const DEFAULT_CONFIG_PATH = '/etc/virt-squeeze/config.yaml';

/** What one command invocation asks for: where the config and the cluster come from, and flag overrides. */
export interface ContextRequest {
  /** `--config FILE`; when absent the default path is used if it exists. */
  readonly configPath?: string;
  /** `--cluster FILE` (a cluster file instead of live libvirt); overrides the config's `cluster_file`. */
  readonly clusterPath?: string;
  readonly overrides?: PolicyOverrides;
}

/** Everything a planning run needs, read and validated at the edge. */
export interface RunContext {
  readonly config?: LoadedConfig;
  readonly cluster: Cluster;
  readonly policy: Policy;
  /** Warnings for the report: config warnings, unknown hosts, ... */
  readonly warnings: readonly string[];
}

/** Reads live hosts for a configuration (libvirt); absent where only cluster files are allowed. */
export type LiveReader = (config: LoadedConfig) => Promise<InventoryResult>;

/** Reads the configuration (if any), the cluster and resolves the policy. Throws ConfigError / InputError. */
export async function loadContext(req: ContextRequest, readLive?: LiveReader): Promise<RunContext> {
  return contextFor(await findConfig(req), req, readLive);
}

/** The cluster and policy for an already loaded configuration (or none). */
export async function contextFor(
  config: LoadedConfig | undefined,
  req: ContextRequest,
  readLive?: LiveReader,
): Promise<RunContext> {
  const inventory = await readInventory(req, config, readLive);
  const patched = config
    ? applyHostOverrides(inventory.cluster, config.config.hosts)
    : { cluster: inventory.cluster, warnings: [] };
  const policy = resolvePolicy(config?.config, inventory.hints, req.overrides ?? {});
  const warnings = [...(config?.warnings ?? []), ...inventory.warnings, ...patched.warnings];
  return { config, cluster: patched.cluster, policy, warnings };
}

/** The configuration `req` names, else the default file when it exists; none only with a cluster file. */
export async function findConfig(req: ContextRequest): Promise<LoadedConfig | undefined> {
  if (req.configPath !== undefined) return loadConfig(req.configPath);
  if (existsSync(DEFAULT_CONFIG_PATH)) return loadConfig(DEFAULT_CONFIG_PATH);
  if (req.clusterPath !== undefined) return undefined;
  throw new ConfigError(
    `no configuration: ${DEFAULT_CONFIG_PATH} does not exist; pass --config FILE, or --cluster FILE to plan a cluster file with default settings`,
  );
}

async function readInventory(
  req: ContextRequest,
  config: LoadedConfig | undefined,
  readLive: LiveReader | undefined,
): Promise<InventoryResult> {
  const opts = loadOptions(config);
  if (req.clusterPath !== undefined) return loadClusterFile(req.clusterPath, opts);
  if (config?.config.cluster_file !== undefined)
    return loadClusterFile(resolveBeside(config, config.config.cluster_file), opts);
  if (config && readLive) return readLive(config);
  throw new ConfigError(
    `${config?.path ?? 'config'}: no cluster source: set cluster_file, or hosts with libvirt URIs`,
  );
}

/** Usage-aware configs read each VM's observed load from the file's traces (percentile over the look-back). */
function loadOptions(config: LoadedConfig | undefined): LoadOptions {
  const usage = config?.config.usage;
  return usage?.enabled ? { usage: { percentile: usage.percentile, lookbackMs: usage.lookback } } : {};
}

/** A path from the config, relative to the config file's directory (a `ganeti:` prefix is kept). */
function resolveBeside(config: LoadedConfig, file: string): string {
  const prefix = file.startsWith('ganeti:') ? 'ganeti:' : '';
  return prefix + path.resolve(config.dir, file.slice(prefix.length));
}
