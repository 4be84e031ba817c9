import { DIMENSION_LABEL, DIMENSIONS } from '../../model/resources.js';
import { EPS, R, type SeqModel } from './model.js';

/** Why a target is statically impossible: one line per problem, plus the hosts and VMs involved. */
export interface StaticProblems {
  readonly lines: string[];
  readonly hosts: Set<string>;
  readonly vms: Set<string>;
}

const DIM_LABELS = [...DIMENSIONS.map((d) => DIMENSION_LABEL[d]), 'CPU load cores'];

/**
 * Rules no ordering can fix: a moved VM that is pinned, unplaced or on a host it cannot leave; a
 * destination that refuses VMs or this VM (static rule); a target that overcommits a receiving
 * host or puts two VMs of one anti-affinity group together; a power-off host that keeps VMs.
 */
export function staticProblems(m: SeqModel, targetIds: ReadonlyMap<string, string>): StaticProblems {
  const out: StaticProblems = { lines: [], hosts: new Set(), vms: new Set() };
  const note = (line: string, hosts: string[], vms: string[]) => {
    out.lines.push(line);
    hosts.forEach((h) => out.hosts.add(h));
    vms.forEach((v) => out.vms.add(v));
  };
  const receiving = new Set<number>();
  for (let v = 0; v < m.vms.length; v++) {
    const vm = m.vms[v]!;
    const wanted = targetIds.get(vm.id);
    if (wanted !== undefined && m.b[v]! < 0) {
      note(`VM ${vm.id}: target host ${wanted} is unknown`, [], [vm.id]);
      continue;
    }
    if (m.b[v] === m.a[v]) continue;
    const to = m.hosts[m.b[v]!]!;
    receiving.add(m.b[v]!);
    if (m.a[v]! < 0) note(`VM ${vm.id} runs on no known host: it cannot be live-migrated`, [], [vm.id]);
    else if (vm.pinned) note(`VM ${vm.id} is pinned to ${vm.host}`, [vm.host!], [vm.id]);
    else if (!m.releases[m.a[v]!])
      note(`VM ${vm.id} cannot leave host ${vm.host} (${hostRefusal(m, m.a[v]!)})`, [vm.host!], [vm.id]);
    if (!m.accepts[m.b[v]!])
      note(
        `host ${to.id} takes no VMs (${hostRefusal(m, m.b[v]!)}) but VM ${vm.id} is sent there`,
        [to.id],
        [vm.id],
      );
    else if (m.allowed && !m.allowed(vm, to))
      note(`VM ${vm.id} may not run on host ${to.id} (static placement rule)`, [to.id], [vm.id]);
  }
  targetOvercommit(m, receiving, note);
  const stayingOn = new Map<number, string[]>();
  for (let v = 0; v < m.vms.length; v++) {
    const h = m.b[v]!;
    if (h >= 0 && m.emptied[h]) stayingOn.set(h, [...(stayingOn.get(h) ?? []), m.vms[v]!.id]);
  }
  for (let h = 0; h < m.hosts.length; h++) {
    if (!m.emptied[h]) continue;
    const host = m.hosts[h]!;
    if (host.state !== 'on' || host.exclude || host.keepOn)
      note(
        `host ${host.id} cannot be switched off (${host.exclude ? 'excluded' : host.keepOn ? 'keep-on' : host.state})`,
        [host.id],
        [],
      );
    const staying = stayingOn.get(h) ?? [];
    if (staying.length > 0)
      note(
        `host ${m.hosts[h]!.id} is to be switched off but the target keeps ${staying.join(', ')} on it`,
        [m.hosts[h]!.id],
        staying,
      );
  }
  return out;
}

function hostRefusal(m: SeqModel, h: number): string {
  const host = m.hosts[h]!;
  if (host.exclude) return 'excluded';
  if (host.drain && m.releases[h]) return 'draining';
  return host.state === 'on' ? 'unavailable' : host.state;
}

type Note = (line: string, hosts: string[], vms: string[]) => void;

function targetOvercommit(m: SeqModel, receiving: ReadonlySet<number>, note: Note): void {
  const used = new Float64Array(m.hosts.length * R);
  const members = new Map<number, number[]>();
  for (let v = 0; v < m.vms.length; v++) {
    const h = m.b[v]!;
    if (h < 0 || !receiving.has(h)) continue;
    for (let r = 0; r < R; r++) used[h * R + r]! += m.dem[v * R + r]!;
    if (m.group[v]! >= 0) {
      const key = h * m.groupCount + m.group[v]!;
      const list = members.get(key);
      if (list) list.push(v);
      else members.set(key, [v]);
    }
  }
  for (const h of [...receiving].sort((x, y) => x - y)) {
    const id = m.hosts[h]!.id;
    for (let r = 0; r < R; r++) {
      const need = used[h * R + r]!;
      const limit = m.lim[h * R + r]!;
      if (need > limit + EPS) {
        const vms = m.vms.filter((_, v) => m.b[v] === h).map((vm) => vm.id);
        note(
          `the target overcommits host ${id}: ${round(need)} ${DIM_LABELS[r]} needed, limit ${round(limit)}`,
          [id],
          vms,
        );
      }
    }
  }
  for (const [key, list] of members) {
    if (list.length < 2) continue;
    const hostId = m.hosts[Math.floor(key / m.groupCount)]!.id;
    const vms = list.map((v) => m.vms[v]!.id);
    note(
      `the target puts ${vms.join(', ')} of anti-affinity group ${m.vms[list[0]!]!.group} together on host ${hostId}`,
      [hostId],
      vms,
    );
  }
}

/** Rounds to 2 decimals for messages. */
export function round(x: number): number {
  return Math.round(x * 100) / 100;
}
