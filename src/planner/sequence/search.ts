import { EPS, R, type SeqModel, memOf } from './model.js';

/** One migration of the internal solver: VM index, source and destination host indices. */
export interface Move {
  readonly v: number;
  readonly from: number;
  readonly to: number;
}

/**
 * A deterministic work budget, shared by every search of one sequencing run: one unit per
 * feasibility check, plus the copying a state costs (a unit per 8 VMs of the state), so the budget
 * bounds time on big clusters too.
 */
export interface Budget {
  left: number;
}

/** A bounded exact search over single-migration states restricted to some VMs and hosts. */
export interface SearchProblem {
  readonly m: SeqModel;
  /** Placement of every VM (host index) the search starts from. */
  readonly start: Int32Array;
  /** Target host per VM. */
  readonly tgt: Int32Array;
  /** Movable VMs the search may move (all others stay where `start` has them). */
  readonly vms: readonly number[];
  /** Hosts the searched VMs may use; must contain every searched VM's start host. */
  readonly hosts: readonly number[];
  readonly budget: Budget;
  /** Ignore paths dearer than this, MiB (an upper bound from a known plan). */
  readonly boundMiB?: number;
}

/** Outcome of {@link searchPath}. */
export type SearchResult =
  | { readonly status: 'found'; readonly moves: Move[]; readonly costMiB: number; readonly states: number }
  /** Every state reachable from the start (within the restriction) was explored: no path. */
  | { readonly status: 'exhausted'; readonly states: number }
  | { readonly status: 'budget'; readonly states: number };

interface Node {
  readonly pos: Uint16Array;
  /** `pos` as a string (one char per VM): the visited-state key. */
  readonly key: string;
  readonly g: number;
  readonly f: number;
  /** VMs not yet on their (in-restriction) target. */
  readonly miss: number;
  readonly seq: number;
  readonly parent: Node | undefined;
  readonly moved: number;
  readonly to: number;
}

/**
 * A* over placements of `vms` on `hosts`: one migration per step (the sequential semantics, of
 * which a one-migration wave is the same check), cost = migrated MiB, admissible heuristic = memory
 * of the VMs not yet on their target (when that target is inside the restriction). The goal is
 * reached when all of those are home. Iterative with a binary heap; stops when the budget is spent.
 */
export function searchPath(p: SearchProblem): SearchResult {
  const { m, vms, hosts } = p;
  const nS = vms.length;
  const nHs = hosts.length;
  const local = new Int32Array(m.hosts.length).fill(-1);
  hosts.forEach((h, i) => (local[h] = i));
  const goal = new Int32Array(nS);
  const mem = new Float64Array(nS);
  vms.forEach((v, i) => {
    goal[i] = local[p.tgt[v]!]!;
    mem[i] = memOf(m, v);
  });
  const { baseUsed, baseGroups } = fixedLoad(p, local);
  const stateCost = Math.ceil(nS / 8);
  p.budget.left -= stateCost * nHs;
  if (p.budget.left < 0) return { status: 'budget', states: 0 };
  const allowed = allowedTable(p);
  const lim = new Float64Array(nHs * R);
  hosts.forEach((h, t) => lim.set(m.lim.subarray(h * R, h * R + R), t * R));
  const startPos = new Uint16Array(nS);
  vms.forEach((v, i) => (startPos[i] = local[p.start[v]!]!));
  let h0 = 0;
  let miss0 = 0;
  for (let i = 0; i < nS; i++)
    if (goal[i]! >= 0 && startPos[i] !== goal[i]) {
      h0 += mem[i]!;
      miss0++;
    }
  const bound = p.boundMiB ?? Infinity;
  const heap = new NodeHeap();
  const best = new Map<string, number>();
  let seq = 0;
  const root: Node = {
    pos: startPos,
    key: keyOf(startPos),
    g: 0,
    f: h0,
    miss: miss0,
    seq: seq++,
    parent: undefined,
    moved: -1,
    to: -1,
  };
  heap.push(root);
  best.set(root.key, 0);
  let states = 0;
  const used = new Float64Array(nHs * R);
  const groups = new Map<number, number>();
  while (heap.size > 0) {
    const node = heap.pop()!;
    if (node.g > (best.get(node.key) ?? Infinity)) continue;
    states++;
    if (node.miss === 0)
      return { status: 'found', moves: unwind(node, vms, hosts, startPos), costMiB: node.g, states };
    p.budget.left -= stateCost;
    loadOf(node.pos, used, groups, baseUsed, baseGroups, p);
    for (let i = 0; i < nS; i++) {
      const v = vms[i]!;
      const from = node.pos[i]!;
      for (let t = 0; t < nHs; t++) {
        if (t === from) continue;
        if (--p.budget.left < 0) return { status: 'budget', states };
        if (!allowed[i * nHs + t] || !fitsLocal(m, v, t, used, lim, groups)) continue;
        const g = node.g + mem[i]!;
        const delta = t === goal[i] ? -1 : from === goal[i] ? 1 : 0;
        const f = node.f + mem[i]! + delta * mem[i]!;
        if (f > bound) continue;
        const key = node.key.slice(0, i) + String.fromCharCode(t) + node.key.slice(i + 1);
        p.budget.left -= stateCost;
        if ((best.get(key) ?? Infinity) <= g) continue;
        best.set(key, g);
        const pos = node.pos.slice();
        pos[i] = t;
        heap.push({ pos, key, g, f, miss: node.miss + delta, seq: seq++, parent: node, moved: i, to: t });
      }
    }
  }
  return { status: 'exhausted', states };
}

function keyOf(pos: Uint16Array): string {
  return String.fromCharCode.apply(null, pos as unknown as number[]);
}

/** Load of the hosts in the restriction from VMs the search does not move. */
function fixedLoad(p: SearchProblem, local: Int32Array) {
  const { m } = p;
  const searched = new Uint8Array(m.vms.length);
  for (const v of p.vms) searched[v] = 1;
  const baseUsed = new Float64Array(p.hosts.length * R);
  const baseGroups = new Map<number, number>();
  for (let v = 0; v < m.vms.length; v++) {
    const h = p.start[v]!;
    if (searched[v] || h < 0 || local[h]! < 0) continue;
    addLoad(m, v, local[h]!, baseUsed, baseGroups, p.hosts.length, 1);
  }
  return { baseUsed, baseGroups };
}

function allowedTable(p: SearchProblem): Uint8Array {
  const { m, vms, hosts } = p;
  const table = new Uint8Array(vms.length * hosts.length);
  vms.forEach((v, i) =>
    hosts.forEach((h, t) => {
      const ok = m.accepts[h] && (m.allowed === undefined || m.allowed(m.vms[v]!, m.hosts[h]!));
      table[i * hosts.length + t] = ok ? 1 : 0;
    }),
  );
  return table;
}

function addLoad(
  m: SeqModel,
  v: number,
  t: number,
  used: Float64Array,
  groups: Map<number, number>,
  nHs: number,
  sign: 1 | -1,
): void {
  for (let r = 0; r < R; r++) used[t * R + r]! += sign * m.dem[v * R + r]!;
  const g = m.group[v]!;
  if (g >= 0) groups.set(g * nHs + t, (groups.get(g * nHs + t) ?? 0) + sign);
}

function loadOf(
  pos: Uint16Array,
  used: Float64Array,
  groups: Map<number, number>,
  baseUsed: Float64Array,
  baseGroups: Map<number, number>,
  p: SearchProblem,
): void {
  used.set(baseUsed);
  groups.clear();
  for (const [k, n] of baseGroups) groups.set(k, n);
  p.vms.forEach((v, i) => addLoad(p.m, v, pos[i]!, used, groups, p.hosts.length, 1));
}

function fitsLocal(
  m: SeqModel,
  v: number,
  t: number,
  used: Float64Array,
  lim: Float64Array,
  groups: Map<number, number>,
): boolean {
  for (let r = 0; r < R; r++) if (used[t * R + r]! + m.dem[v * R + r]! > lim[t * R + r]! + EPS) return false;
  const g = m.group[v]!;
  return g < 0 || (groups.get(g * (lim.length / R) + t) ?? 0) <= 0;
}

function unwind(node: Node, vms: readonly number[], hosts: readonly number[], startPos: Uint16Array): Move[] {
  const steps: Node[] = [];
  for (let n: Node | undefined = node; n?.parent; n = n.parent) steps.push(n);
  steps.reverse();
  const pos = startPos.slice();
  return steps.map((s) => {
    const move = { v: vms[s.moved]!, from: hosts[pos[s.moved]!]!, to: hosts[s.to]! };
    pos[s.moved] = s.to;
    return move;
  });
}

/** Min-heap on (f, -g, seq): cheapest first, deeper on ties, then first generated (deterministic). */
class NodeHeap {
  private readonly items: Node[] = [];
  get size(): number {
    return this.items.length;
  }
  push(n: Node): void {
    const a = this.items;
    a.push(n);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  pop(): Node | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(x: Node, y: Node): boolean {
  if (x.f !== y.f) return x.f < y.f;
  if (x.g !== y.g) return x.g > y.g;
  return x.seq < y.seq;
}
