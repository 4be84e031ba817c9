import type { Cluster } from '../model/cluster.js';
import type { Plan } from '../planner/plan.js';

/**
 * Compares a fresh snapshot with the plan's assumptions right before acting (the cluster may have
 * changed since planning). Returns one line per stale assumption; empty when the plan still applies.
 */
export function staleAssumptions(plan: Plan, fresh: Cluster): string[] {
  const hostState = new Map(fresh.hosts.map((h) => [h.id, h.state]));
  const vmHost = new Map(fresh.vms.map((v) => [v.id, v.host]));
  const problems: string[] = [];
  for (const id of plan.powerOn)
    if (hostState.get(id) !== 'standby')
      problems.push(`host ${id} to wake is now ${hostState.get(id) ?? 'gone'}`);
  const firstMove = new Map<string, string>();
  for (const wave of plan.waves) for (const m of wave) if (!firstMove.has(m.vm)) firstMove.set(m.vm, m.from);
  for (const [vm, from] of firstMove) {
    const now = vmHost.get(vm);
    if (now !== from) problems.push(`VM ${vm} is now on ${now ?? 'no host'}, planned from ${from}`);
  }
  for (const wave of plan.waves)
    for (const m of wave)
      if (hostState.get(m.to) !== 'on' && !plan.powerOn.includes(m.to))
        problems.push(`destination ${m.to} of VM ${m.vm} is now ${hostState.get(m.to) ?? 'gone'}`);
  for (const id of plan.powerOff)
    if (hostState.get(id) !== 'on')
      problems.push(`host ${id} to power off is now ${hostState.get(id) ?? 'gone'}`);
  return problems;
}
