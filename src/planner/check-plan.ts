import type { Cluster, Host } from '../model/cluster.js';
import { Occupancy, acceptsVms } from '../model/capacity.js';
import { failoverShortfall, metricAtLeast, metricHosts } from '../model/metric.js';
import type { Policy } from '../model/policy.js';
import { DIMENSION_LABEL, DIMENSIONS } from '../model/resources.js';
import type { Plan } from './plan.js';

/** One broken rule found by {@link checkPlan}; `step` says where ("power_on", "wave 3", "power_off", "final"). */
export interface Violation {
  readonly step: string;
  readonly message: string;
}

/**
 * Independent replay of a plan against the snapshot it was made for (DESIGN.md 4.2 and 5).
 * Power-ons first, then every wave with each migrating VM counted on both its source and its
 * destination, then power-offs. Returns every violation found; an empty list means the plan is safe.
 * Shares only the model's bookkeeping with the planner, never its decisions.
 */
export function checkPlan(cluster: Cluster, plan: Plan, policy: Policy): Violation[] {
  const violations: Violation[] = [];
  const fail = (step: string, message: string) => violations.push({ step, message });
  const occ = new Occupancy(cluster, policy);
  const state = new Map<string, Host>(cluster.hosts.map((h) => [h.id, h]));

  checkPowerOn(plan, policy, state, fail);
  plan.waves.forEach((wave, i) => replayWave(occ, state, wave, i + 1, policy, fail));
  checkPowerOff(occ, plan, policy, state, fail);
  if (plan.decision === 'squeeze') checkSqueezeResult(occ, cluster, state, policy, fail);
  return violations;
}

type Fail = (step: string, message: string) => void;

function checkPowerOn(plan: Plan, policy: Policy, state: Map<string, Host>, fail: Fail): void {
  if (plan.powerOn.length > policy.safety.maxPowerOnPerRun)
    fail(
      'power_on',
      `${plan.powerOn.length} power-ons exceed max_power_on_per_run ${policy.safety.maxPowerOnPerRun}`,
    );
  for (const id of plan.powerOn) {
    const h = state.get(id);
    if (!h) fail('power_on', `unknown host ${id}`);
    else if (h.state !== 'standby')
      fail('power_on', `host ${id} is ${h.state}, only standby hosts are woken`);
    else if (h.tags.includes('wake-failed')) fail('power_on', `host ${id} is quarantined (wake-failed)`);
    else state.set(id, { ...h, state: 'on' });
  }
}

function replayWave(
  occ: Occupancy,
  state: Map<string, Host>,
  wave: Plan['waves'][number],
  n: number,
  policy: Policy,
  fail: Fail,
): void {
  const step = `wave ${n}`;
  if (wave.length > policy.migration.maxParallel)
    fail(step, `${wave.length} migrations exceed max_parallel ${policy.migration.maxParallel}`);
  const touches = new Map<string, number>();
  const seen = new Set<string>();
  const started: Array<{ vmId: string; from: string; to: string }> = [];
  for (const m of wave) {
    const vm = occ.vmById.get(m.vm);
    if (!vm) {
      fail(step, `unknown VM ${m.vm}`);
      continue;
    }
    if (seen.has(m.vm)) fail(step, `VM ${m.vm} moves twice in one wave`);
    seen.add(m.vm);
    if (vm.pinned) fail(step, `pinned VM ${m.vm} is moved`);
    if (occ.placement.get(m.vm) !== m.from)
      fail(step, `VM ${m.vm} is on ${occ.placement.get(m.vm) ?? 'no host'}, not on ${m.from}`);
    if (m.from === m.to) fail(step, `VM ${m.vm} migrates onto its own host ${m.to}`);
    const src = state.get(m.from);
    const dst = state.get(m.to);
    if (src?.exclude) fail(step, `VM ${m.vm} is moved off excluded host ${m.from}`);
    if (src && src.state !== 'on') fail(step, `VM ${m.vm} leaves host ${m.from}, which is ${src.state}`);
    if (!dst) {
      fail(step, `VM ${m.vm} goes to unknown host ${m.to}`);
      continue;
    }
    if (!acceptsVms(dst)) fail(step, `VM ${m.vm} goes to host ${m.to}, which ${refusal(dst)}`);
    for (const h of [m.from, m.to]) touches.set(h, (touches.get(h) ?? 0) + 1);
    if (policy.antiAffinity && vm.group !== undefined && occ.groupCount(m.to, vm.group) > 0)
      fail(step, `VM ${m.vm} joins another VM of group ${vm.group} on ${m.to}`);
    occ.place(vm, m.to); // in flight: counted on both ends
    started.push({ vmId: vm.id, from: m.from, to: m.to });
  }
  for (const [host, count] of touches)
    if (count > policy.migration.maxPerHost)
      fail(step, `${count} migrations touch host ${host}, over max_per_host ${policy.migration.maxPerHost}`);
  for (const host of new Set(started.map((s) => s.to))) checkLimits(occ, host, step, fail);
  for (const s of started) occ.unplace(occ.vmById.get(s.vmId)!, s.from);
}

function refusal(h: Host): string {
  if (h.state !== 'on') return `is ${h.state}`;
  if (h.exclude) return 'is excluded';
  return 'is draining';
}

function checkLimits(occ: Occupancy, hostId: string, step: string, fail: Fail): void {
  const free = occ.freeOn(hostId);
  for (const d of DIMENSIONS)
    if (free[d] < -1e-9) fail(step, `host ${hostId} is overcommitted by ${-free[d]} ${DIMENSION_LABEL[d]}`);
  if (occ.overLoadCap(hostId)) fail(step, `host ${hostId} exceeds its CPU usage cap`);
}

function checkPowerOff(
  occ: Occupancy,
  plan: Plan,
  policy: Policy,
  state: Map<string, Host>,
  fail: Fail,
): void {
  if (plan.powerOff.length > policy.safety.maxPowerOffPerRun)
    fail(
      'power_off',
      `${plan.powerOff.length} power-offs exceed max_power_off_per_run ${policy.safety.maxPowerOffPerRun}`,
    );
  for (const id of plan.powerOff) {
    const h = state.get(id);
    if (!h) {
      fail('power_off', `unknown host ${id}`);
      continue;
    }
    if (h.state !== 'on') fail('power_off', `host ${id} is ${h.state}, not on`);
    if (h.exclude) fail('power_off', `host ${id} is excluded`);
    else if (h.keepOn) fail('power_off', `host ${id} must stay on`);
    const left = occ.vmsOn(id).size;
    if (left > 0) fail('power_off', `host ${id} still holds ${left} VM(s)`);
    state.set(id, { ...h, state: 'standby' });
  }
  const online = [...state.values()].filter((h) => h.state === 'on').length;
  if (plan.powerOff.length > 0 && online < policy.safety.minOnlineHosts)
    fail('power_off', `${online} hosts left online, below min_online_hosts ${policy.safety.minOnlineHosts}`);
}

function checkSqueezeResult(
  occ: Occupancy,
  cluster: Cluster,
  state: Map<string, Host>,
  policy: Policy,
  fail: Fail,
) {
  const after: Cluster = { ...cluster, hosts: [...state.values()] };
  const hosts = metricHosts(after.hosts);
  if (!metricAtLeast(occ, hosts, policy.thresholds.target))
    fail('final', `free capacity ends below target ${policy.thresholds.target}`);
  const stranded = failoverShortfall(occ, after, policy.safety.failoverReserveHosts);
  if (stranded !== undefined)
    fail(
      'final',
      `failover reserve of ${policy.safety.failoverReserveHosts} host(s) broken: VM ${stranded} would find no room`,
    );
}
