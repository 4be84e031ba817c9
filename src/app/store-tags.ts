import type { Cluster, Host } from '../model/cluster.js';
import type { Resources } from '../model/resources.js';
import { TAG, type HostTag } from '../state/types.js';

/**
 * Merges the state store's tags into a fresh snapshot. A host virt-squeeze powered down is
 * unreachable, which the inventory reads as `unknown`: its `standby` tag says it is ours to wake.
 * A standby-tagged host that answers is on (someone started it): the snapshot wins, with a warning.
 * `exclude` tags exclude; `wake-failed` (quarantine) is carried as a host tag the planner respects.
 * A standby host cannot be read, so it gets its last known capacity (`knownCapacity`), which the
 * planner needs to size a wake.
 */
export function applyStoreTags(
  cluster: Cluster,
  tags: readonly HostTag[],
  knownCapacity: ReadonlyMap<string, Resources> = new Map(),
  earlierWarnings: readonly string[] = [],
): { cluster: Cluster; warnings: string[] } {
  const byHost = new Map<string, Set<string>>();
  for (const t of tags) byHost.set(t.host, (byHost.get(t.host) ?? new Set()).add(t.tag));
  const warnings: string[] = [];
  const hosts = cluster.hosts.map((h): Host => {
    const own = byHost.get(h.id);
    if (!own) return h;
    let state = h.state;
    if (own.has(TAG.standby) && (h.state === 'unknown' || h.state === 'off')) state = 'standby';
    else if (own.has(TAG.standby) && h.state === 'on')
      warnings.push(
        `host ${h.id} is tagged standby but answers: treated as on (clear the tag with: virt-squeeze host untag ${h.id} standby)`,
      );
    if (own.has(TAG.wakeFailed))
      warnings.push(
        `host ${h.id} is quarantined (wake-failed): never woken until an admin runs: virt-squeeze host untag ${h.id} wake-failed`,
      );
    const capacity = state === 'standby' && h.state !== 'standby' ? knownCapacity.get(h.id) : undefined;
    return {
      ...h,
      state,
      capacity: capacity ?? h.capacity,
      exclude: h.exclude || own.has(TAG.exclude),
      tags: [...new Set([...h.tags, ...own])],
    };
  });
  // The inventory warned that each powered-down host did not answer: expected of a standby host,
  // so that line would only alarm the operator on every run.
  const asleep = hosts.filter((h, i) => h.state === 'standby' && cluster.hosts[i]!.state !== 'standby');
  const kept = earlierWarnings.filter((w) => !asleep.some((h) => w.startsWith(`host ${h.id} (`)));
  return { cluster: { ...cluster, hosts }, warnings: [...kept, ...warnings] };
}
