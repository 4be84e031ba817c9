import type { LoadedConfig } from '../config/load.js';
import { LibvirtHostProbe, LibvirtInventory, type LibvirtHostConfig } from '../inventory/libvirt/index.js';
import type { InventoryResult } from '../inventory/types.js';
import type { LibvirtMigrationHost } from '../migration/libvirt/index.js';
import type { StateStore } from '../state/types.js';

/** The configured hosts that carry a libvirt URI: the live inventory's host list. */
export function libvirtHosts(config: LoadedConfig): LibvirtHostConfig[] {
  return config.config.hosts.flatMap((h) =>
    h.uri
      ? [{ id: h.id, uri: h.uri, idleWatts: h.idle_w, maxWatts: h.max_w, exclude: h.exclude, drain: h.drain }]
      : [],
  );
}

export interface LiveOptions {
  readonly perHostTimeoutMs: number;
  /** In-run CPU sampling interval when the store has no earlier sample, ms (0 = none). */
  readonly sampleIntervalMs: number;
  readonly usageStore?: Pick<StateStore, 'usageSamples' | 'saveUsageSamples'>;
}

/** A reader of the live cluster over the config's libvirt URIs (for loadContext). */
export function liveReader(opts: LiveOptions): (config: LoadedConfig) => Promise<InventoryResult> {
  return (config) =>
    new LibvirtInventory(libvirtHosts(config), {
      concurrency: 8,
      perHostTimeoutMs: opts.perHostTimeoutMs,
      sampleIntervalMs: opts.sampleIntervalMs,
      usageStore: opts.usageStore,
    }).read();
}

/** Where the migrator reaches each host, as control and as a migration destination. */
export function migrationHosts(config: LoadedConfig): LibvirtMigrationHost[] {
  return config.config.hosts.flatMap((h) =>
    h.uri ? [{ id: h.id, uri: h.uri, peerUri: h.peer_uri, migrateUri: h.migrate_uri }] : [],
  );
}

/** Fresh looks at single hosts over the config's libvirt URIs (before power actions). */
export function libvirtProbe(config: LoadedConfig | undefined, timeoutMs: number): LibvirtHostProbe {
  return new LibvirtHostProbe(config ? libvirtHosts(config) : [], { timeoutMs });
}
