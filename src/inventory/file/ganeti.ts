import { InputError } from '../../errors.js';
import type { Cluster, Host, HostState, Vm } from '../../model/cluster.js';
import type { Resources } from '../../model/resources.js';
import { GANETI_DEFAULT_HINTS } from '../../config/defaults.js';
import type { InventoryResult, SourceHints } from '../types.js';

/**
 * Ganeti's text cluster format (`hscan`, `hsqueeze -t`, `-S` files), read exactly as Ganeti 3.0's
 * htools read it, and mapped onto the model so that `per_host` planning reproduces hsqueeze's
 * arithmetic. Reference: ../shared/recipes/ganeti-hsqueeze.md (format, quirks, resource model).
 *
 * Format quirks kept on purpose, because Ganeti has them and a different reading changes decisions:
 * - the line list is cut at EVERY empty line: 1 groups, 2 nodes, 3 instances, 4 cluster tags,
 *   5 instance policies (optional), more ignored. A file with a single empty line before its policy
 *   line therefore carries that line as a cluster tag, and the built-in default policy applies;
 * - a `?` in any of t_mem..t_cpu loads the node offline with every resource 0 and no tags;
 * - role `Y` = offline, `M` = master, anything else = online;
 * - the vCPU ratio of a node is its GROUP's policy ratio (4.0 unless the policy section has a line
 *   for that group), while the standard instance comes from the cluster (owner-less) policy line.
 */

// ---------------------------------------------------------------- parsed records

type DiskTemplate =
  'diskless' | 'file' | 'sharedfile' | 'plain' | 'blockdev' | 'drbd' | 'rbd' | 'ext' | 'gluster';
const TEMPLATES: readonly DiskTemplate[] = [
  'diskless',
  'file',
  'sharedfile',
  'plain',
  'blockdev',
  'drbd',
  'rbd',
  'ext',
  'gluster',
];
/** Node-local disks (or none): hsqueeze never moves these instances. */
const LOCAL_OR_NO_DISK: ReadonlySet<DiskTemplate> = new Set(['plain', 'drbd', 'file', 'diskless']);
/** Templates whose disks Ganeti counts on the node (`drbd` on both nodes). */
const NODE_DISK: ReadonlySet<DiskTemplate> = new Set(['plain', 'drbd']);

const STATUSES = [
  'running',
  'ADMIN_down',
  'ADMIN_offline',
  'ERROR_down',
  'ERROR_up',
  'ERROR_nodedown',
  'ERROR_nodeoffline',
  'ERROR_wrongnode',
  'USER_down',
] as const;
type Status = (typeof STATUSES)[number];
/** Statuses whose memory Ganeti counts in the node's i_mem. */
const USES_MEMORY: ReadonlySet<Status> = new Set([
  'running',
  'ERROR_up',
  'ERROR_nodedown',
  'ERROR_nodeoffline',
  'ERROR_wrongnode',
]);

const STANDBY_TAG_PREFIX = 'htools:standby:';

interface ISpec {
  readonly memMiB: number;
  readonly cpuCount: number;
  readonly diskMiB: number;
}

interface IPolicy {
  readonly std: ISpec;
  readonly vcpuRatio: number;
}

/** Ganeti's built-in instance policy (std 128 MiB / 1 vCPU / 1024 MiB, vcpu_ratio 4.0). */
const DEFAULT_IPOLICY: IPolicy = { std: { memMiB: 128, cpuCount: 1, diskMiB: 1024 }, vcpuRatio: 4 };

interface GNode {
  readonly name: string;
  readonly line: number;
  readonly tMem: number;
  readonly nMem: number;
  readonly fMem: number;
  readonly tDsk: number;
  readonly fDsk: number;
  readonly tCpu: number;
  readonly offline: boolean;
  readonly master: boolean;
  readonly unknown: boolean;
  readonly groupUuid: string;
  readonly tags: readonly string[];
  readonly nosCpu: number;
}

interface GInstance {
  readonly name: string;
  readonly line: number;
  readonly memMiB: number;
  readonly dskMiB: number;
  readonly vcpus: number;
  readonly status: Status;
  readonly autoBalance: boolean;
  readonly pnode: string;
  readonly snode: string;
  readonly template: DiskTemplate;
  readonly forthcoming: boolean;
}

interface GGroup {
  readonly name: string;
  readonly uuid: string;
}

/** The file as Ganeti reads it, before mapping. */
export interface GanetiData {
  readonly groups: readonly GGroup[];
  readonly nodes: readonly GNode[];
  readonly instances: readonly GInstance[];
  readonly clusterTags: readonly string[];
  readonly clusterPolicy: IPolicy;
  /** Group name -> policy, for groups that have a policy line. */
  readonly groupPolicies: ReadonlyMap<string, IPolicy>;
}

// ---------------------------------------------------------------- low-level reading

interface Line {
  readonly no: number;
  readonly text: string;
}

class LineReader {
  constructor(
    readonly file: string,
    readonly line: Line,
    readonly what: string,
  ) {}

  fail(message: string): never {
    throw new InputError(`${this.file}:${this.line.no}: ${this.what}: ${message}`);
  }

  fields(min: number, shape: string): string[] {
    const f = this.line.text.split('|');
    if (f.length < min)
      this.fail(`expected ${shape} (at least ${min} '|'-separated fields), got ${f.length}`);
    return f;
  }

  /** Haskell `read` of an Int, as Ganeti's tryRead does (leading blanks allowed, nothing after). */
  int(field: string, name: string): number {
    if (!/^\s*-?\d+$/.test(field)) this.fail(`${name}: expected an integer, got ${JSON.stringify(field)}`);
    return Number.parseInt(field, 10);
  }

  /** Haskell `read` of a Double: digits with optional fraction and exponent. */
  double(field: string, name: string): number {
    if (!/^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(field)) {
      this.fail(`${name}: expected a number, got ${JSON.stringify(field)}`);
    }
    return Number.parseFloat(field);
  }

  yesNo(field: string, name: string): boolean {
    if (field !== 'Y' && field !== 'N') this.fail(`${name}: expected Y or N, got ${JSON.stringify(field)}`);
    return field === 'Y';
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], name: string): T {
    if (!(allowed as readonly string[]).includes(field)) {
      this.fail(`${name}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(field)}`);
    }
    return field as T;
  }
}

/** Ganeti's commaSplit: an empty field is an empty list. */
function commaList(field: string): string[] {
  return field === '' ? [] : field.split(',');
}

/** Cuts the file into sections at every empty line (Ganeti's `sepSplit "" . lines`). */
function sections(text: string, file: string): Line[][] {
  const raw = text.split('\n');
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  if (raw.length === 0) return [];
  const out: Line[][] = [[]];
  raw.forEach((t, i) => {
    if (t.endsWith('\r')) {
      throw new InputError(`${file}:${i + 1}: CRLF line ending: Ganeti text files use LF only`);
    }
    if (t === '') out.push([]);
    else out[out.length - 1]!.push({ no: i + 1, text: t });
  });
  return out;
}

// ---------------------------------------------------------------- sections

function parseGroup(r: LineReader): GGroup {
  const [name, uuid, policy] = r.fields(4, 'name|uuid|alloc_policy|tags[|networks]');
  r.oneOf(policy!, ['preferred', 'last_resort', 'unallocable'], 'alloc_policy');
  return { name: name!, uuid: uuid! };
}

function parseNode(r: LineReader, groupUuids: ReadonlySet<string>): GNode {
  const f = r.fields(
    9,
    'name|t_mem|n_mem|f_mem|t_dsk|f_dsk|t_cpu|role|group_uuid[|spindles|tags|excl_storage|free_spindles|nos_cpu|cpu_speed]',
  );
  const [name, tm, nm, fm, td, fd, tc, role, gu] = f as [string, ...string[]];
  const [spindles = '1', tags = '', excl = 'N', freeSpindles = '0', nosCpu = '1', cpuSpeed = '1.0'] =
    f.slice(9);
  if (!groupUuids.has(gu!)) r.fail(`unknown group '${gu}' for node ${name}`);
  const base = { name, line: r.line.no, groupUuid: gu! };
  if ([tm, nm, fm, td, fd, tc].includes('?')) {
    return {
      ...base,
      ...{ tMem: 0, nMem: 0, fMem: 0, tDsk: 0, fDsk: 0, tCpu: 0, nosCpu: 0 },
      offline: true,
      master: false,
      unknown: true,
      tags: [],
    };
  }
  r.int(spindles, 'spindles');
  r.yesNo(excl, 'exclusive_storage');
  r.int(freeSpindles, 'free_spindles');
  r.double(cpuSpeed, 'cpu_speed');
  return {
    ...base,
    tMem: r.double(tm!, 't_mem'),
    nMem: r.int(nm!, 'n_mem'),
    fMem: r.int(fm!, 'f_mem'),
    tDsk: r.double(td!, 't_dsk'),
    fDsk: r.int(fd!, 'f_dsk'),
    tCpu: r.double(tc!, 't_cpu'),
    nosCpu: r.int(nosCpu, 'nos_cpu'),
    offline: role === 'Y',
    master: role === 'M',
    unknown: false,
    tags: commaList(tags),
  };
}

function parseInstance(r: LineReader, nodeNames: ReadonlySet<string>): GInstance {
  const f = r.fields(
    10,
    'name|mem|dsk|vcpus|status|auto_balance|pnode|snode|disk_template|tags[|spindle_use|disk_spindles|forthcoming]',
  );
  const [name, mem, dsk, vcpus, status, autoBal, pnode, snode, dt] = f as [string, ...string[]];
  const [spindleUse = '1', spindles = '-', forthcoming = 'N'] = f.slice(10);
  if (!nodeNames.has(pnode!)) r.fail(`unknown node '${pnode}' for instance ${name}`);
  if (snode !== '' && !nodeNames.has(snode!)) r.fail(`unknown node '${snode}' for instance ${name}`);
  const template = r.oneOf(dt!, TEMPLATES, 'disk_template');
  if (template === 'drbd' && snode === pnode) {
    r.fail(`instance ${name} has same primary and secondary node - ${pnode}`);
  }
  r.int(spindleUse, 'spindle_use');
  if (spindles !== '-') r.int(spindles, 'disk_spindles');
  return {
    name,
    line: r.line.no,
    memMiB: r.int(mem!, 'mem'),
    dskMiB: r.int(dsk!, 'dsk'),
    vcpus: r.int(vcpus!, 'vcpus'),
    status: r.oneOf(status!, STATUSES, 'status'),
    autoBalance: r.yesNo(autoBal!, 'auto_balance'),
    pnode: pnode!,
    snode: snode!,
    template,
    forthcoming: r.yesNo(forthcoming, 'forthcoming'),
  };
}

function parseISpec(r: LineReader, field: string, name: string): ISpec {
  const f = commaList(field);
  if (f.length < 6) r.fail(`${name}: expected mem,cpu_count,disk_size,disk_count,nic_count,spindle_use`);
  const ints = f.slice(0, 6).map((x, i) => r.int(x, `${name}[${i}]`));
  return { memMiB: ints[0]!, cpuCount: ints[1]!, diskMiB: ints[2]! };
}

function parsePolicy(r: LineReader): { owner: string; policy: IPolicy } {
  const [owner, std, minmax, templates, vcpuRatio, spindleRatio] = r.fields(
    6,
    'owner|std|min;max[;min;max...]|disk_templates|vcpu_ratio|spindle_ratio',
  ) as [string, ...string[]];
  const pairs = minmax === '' ? [] : minmax!.split(';');
  if (pairs.length % 2 !== 0) r.fail(`odd number of min/max specs for ${owner || 'the cluster policy'}`);
  pairs.forEach((p, i) => parseISpec(r, p, i % 2 === 0 ? 'minspec' : 'maxspec'));
  commaList(templates!).forEach((t) => r.oneOf(t, TEMPLATES, 'disk_templates'));
  r.double(spindleRatio!, 'spindle_ratio');
  return {
    owner,
    policy: { std: parseISpec(r, std!, 'stdspec'), vcpuRatio: r.double(vcpuRatio!, 'vcpu_ratio') },
  };
}

function unique<T extends { name: string; line: number }>(
  items: readonly T[],
  what: string,
  file: string,
): void {
  const seen = new Map<string, number>();
  for (const it of items) {
    const first = seen.get(it.name);
    if (first !== undefined) {
      throw new InputError(
        `${file}:${it.line}: duplicate ${what} name '${it.name}' (first on line ${first})`,
      );
    }
    seen.set(it.name, it.line);
  }
}

/** Reads Ganeti's text format as Ganeti does; syntax errors name the file and line. */
export function readGanetiText(text: string, file: string): GanetiData {
  const secs = sections(text, file);
  if (secs.length < 4) {
    throw new InputError(
      `${file}: invalid Ganeti text file: ${secs.length} sections instead of 4 or more ` +
        '(groups, nodes, instances, cluster tags[, policies], separated by single empty lines)',
    );
  }
  const [gl, nl, il, tl, pl = []] = secs as [Line[], Line[], Line[], Line[], Line[]?];
  const groups = gl.map((l) => parseGroup(new LineReader(file, l, 'group')));
  unique(
    groups.map((g, i) => ({ name: g.uuid, line: gl[i]!.no })),
    'group uuid',
    file,
  );
  const uuids = new Set(groups.map((g) => g.uuid));
  const nodes = nl.map((l) => parseNode(new LineReader(file, l, 'node'), uuids));
  unique(nodes, 'node', file);
  const nodeNames = new Set(nodes.map((n) => n.name));
  const instances = il.map((l) => parseInstance(new LineReader(file, l, 'instance'), nodeNames));
  unique(instances, 'instance', file);
  let clusterPolicy = DEFAULT_IPOLICY;
  const groupPolicies = new Map<string, IPolicy>();
  const groupNames = new Set(groups.map((g) => g.name));
  for (const l of pl) {
    const r = new LineReader(file, l, 'ipolicy');
    const { owner, policy } = parsePolicy(r);
    if (owner === '') clusterPolicy = policy;
    else if (groupNames.has(owner)) groupPolicies.set(owner, policy);
    else r.fail(`unknown group '${owner}'`);
  }
  return { groups, nodes, instances, clusterTags: tl.map((l) => l.text), clusterPolicy, groupPolicies };
}

// ---------------------------------------------------------------- mapping to the model

interface NodeTotals {
  /** Σ memory of primaries Ganeti counts in i_mem, MiB. */
  iMem: number;
  /** Σ node-disk (plain/drbd) of primaries, MiB. */
  localDskMiB: number;
  /** Per primary node: Σ memory of DRBD instances whose secondary is here (Ganeti's peer map). */
  peers: Map<string, number>;
  holdsSecondary: boolean;
}

function totalsByNode(data: GanetiData): Map<string, NodeTotals> {
  const totals = new Map<string, NodeTotals>();
  for (const n of data.nodes)
    totals.set(n.name, { iMem: 0, localDskMiB: 0, peers: new Map(), holdsSecondary: false });
  for (const inst of data.instances) {
    if (inst.forthcoming) continue;
    const p = totals.get(inst.pnode)!;
    if (USES_MEMORY.has(inst.status)) p.iMem += inst.memMiB;
    if (NODE_DISK.has(inst.template)) p.localDskMiB += inst.dskMiB;
    if (inst.snode === '') continue;
    const s = totals.get(inst.snode)!;
    s.holdsSecondary = true;
    // usesSecMem: not ADMIN_offline and auto_balance; only DRBD has a real secondary.
    if (inst.template === 'drbd' && inst.status !== 'ADMIN_offline' && inst.autoBalance) {
      s.peers.set(inst.pnode, (s.peers.get(inst.pnode) ?? 0) + inst.memMiB);
    }
  }
  return totals;
}

function groupRatio(data: GanetiData, uuid: string): number {
  const group = data.groups.find((g) => g.uuid === uuid)!;
  return (data.groupPolicies.get(group.name) ?? DEFAULT_IPOLICY).vcpuRatio;
}

function hostState(n: GNode): HostState {
  if (!n.offline) return 'on';
  return n.tags.some((t) => t.startsWith(STANDBY_TAG_PREFIX)) ? 'standby' : 'off';
}

function hostOf(n: GNode, t: NodeTotals, cpuRatio: number, nodeRatio: number): Host {
  // x_mem: memory in use that no instance explains; it stays taken through every move.
  const xMem = n.tMem - n.nMem - t.iMem - n.fMem;
  // N+1: a node must keep room to absorb its largest DRBD peer (r_mem). Ganeti 3.0 refuses any
  // placement that leaves free memory <= r_mem, also on a node that already fails N+1 (its
  // forthcoming-aware check; observed: hsqueeze expands hbal-location-2.data even at factor 0).
  const rMem = Math.max(0, ...t.peers.values());
  return {
    id: n.name,
    capacity: { cpu: n.tCpu, memMiB: n.tMem, diskGiB: n.tDsk / 1024 },
    reserved: {
      // Ganeti counts the node OS in u_cpu and checks u_cpu / t_cpu <= the GROUP's vcpu_ratio; the
      // model applies one cluster ratio, so a group with a lower ratio reserves the difference.
      cpu: n.nosCpu + n.tCpu * (cpuRatio - nodeRatio),
      // +1 MiB: Ganeti refuses a placement unless free memory stays STRICTLY above 0 ("exactly full"
      // fails), while the model's fit allows free = 0; reserving one MiB makes the two agree.
      memMiB: n.nMem + Math.max(0, xMem) + 1 + rMem,
      // Disk the reported free space does not explain (e.g. DRBD secondaries) stays taken.
      diskGiB: Math.max(0, n.tDsk - n.fDsk - t.localDskMiB) / 1024,
    },
    state: hostState(n),
    exclude: false,
    // hsqueeze never powers off the master, nor a node holding secondaries (it stays a DRBD peer),
    // but both still receive instances: keepOn, not exclude.
    keepOn: n.master || t.holdsSecondary,
    drain: false,
    tags: n.tags,
  };
}

function vmOf(inst: GInstance): Vm {
  return {
    id: inst.name,
    demand: {
      cpu: inst.status === 'ADMIN_offline' ? 0 : inst.vcpus,
      memMiB: USES_MEMORY.has(inst.status) ? inst.memMiB : 0,
      diskGiB: NODE_DISK.has(inst.template) ? inst.dskMiB / 1024 : 0,
    },
    host: inst.pnode,
    // hsqueeze's balancing moves only instances with auto_balance=Y and shared/external storage.
    pinned: LOCAL_OR_NO_DISK.has(inst.template) || !inst.autoBalance,
  };
}

function hintsOf(data: GanetiData, cpuRatio: number): SourceHints {
  const std = data.clusterPolicy.std;
  return {
    standard: { cpu: std.cpuCount, memMiB: std.memMiB, diskGiB: 0 },
    overcommit: { cpu: cpuRatio, mem: 1, disk: 1 },
    antiAffinity: false,
    // hsqueeze's defaults: per_host probe, minimal = target = 2, no reserve beyond Ganeti's own checks.
    thresholds: GANETI_DEFAULT_HINTS.thresholds,
    safety: GANETI_DEFAULT_HINTS.safety,
  };
}

function warningsOf(data: GanetiData, file: string): string[] {
  const warnings: string[] = [];
  const offline = new Set(data.nodes.filter((n) => n.offline).map((n) => n.name));
  for (const n of data.nodes) {
    if (n.unknown)
      warnings.push(`${file}:${n.line}: node ${n.name} has unknown resources ('?'): loaded offline, empty`);
  }
  for (const i of data.instances) {
    if (i.forthcoming) warnings.push(`${file}:${i.line}: forthcoming instance ${i.name} ignored`);
    else if (offline.has(i.pnode))
      warnings.push(`${file}:${i.line}: instance ${i.name} runs on offline node ${i.pnode}`);
  }
  if (data.groups.length > 1)
    warnings.push(`${file}: ${data.groups.length} node groups planned as one pool (as hsqueeze does)`);
  return warnings;
}

/** Maps parsed Ganeti data to the model and hints (see the README's "Cluster files" section). */
export function ganetiToInventory(data: GanetiData, file: string): InventoryResult {
  const usedGroups = new Set(data.nodes.map((n) => n.groupUuid));
  const ratios = [...usedGroups].map((g) => groupRatio(data, g));
  const cpuRatio = ratios.length > 0 ? Math.max(...ratios) : DEFAULT_IPOLICY.vcpuRatio;
  const totals = totalsByNode(data);
  const hosts = data.nodes.map((n) =>
    hostOf(n, totals.get(n.name)!, cpuRatio, groupRatio(data, n.groupUuid)),
  );
  const vms = data.instances.filter((i) => !i.forthcoming).map(vmOf);
  const cluster: Cluster = { hosts, vms, source: `ganeti:${file.slice(file.lastIndexOf('/') + 1)}` };
  return { cluster, hints: hintsOf(data, cpuRatio), warnings: warningsOf(data, file) };
}

/** Parses a Ganeti text file's content into the model. */
export function parseGanetiText(text: string, file: string): InventoryResult {
  return ganetiToInventory(readGanetiText(text, file), file);
}

// ---------------------------------------------------------------- writer

export interface GanetiWriteOptions {
  /** Standard instance for the cluster policy (hsqueeze's probe unit); disk is written in MiB. */
  readonly standard: Resources;
  /** vCPU ratio of the cluster and group policy. */
  readonly vcpuRatio: number;
  /** Node group name; default `default`. */
  readonly groupName?: string;
}

const NAME_RE = /^[^|,\n\r\s]+$/;

function ganetiName(id: string, what: string): string {
  if (!NAME_RE.test(id))
    throw new InputError(`${what} id ${JSON.stringify(id)} cannot be written as a Ganeti name`);
  return id;
}

function ratio(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

function nodeLine(h: Host, vms: readonly Vm[], master: boolean, groupUuid: string): string {
  const memUsed = vms.reduce((s, v) => s + v.demand.memMiB, 0);
  const nMem = Math.max(0, h.reserved.memMiB - 1); // undo the strict-free +1 (see hostOf)
  const tDsk = Math.round(h.capacity.diskGiB * 1024);
  // every VM is written as ext or diskless: none uses node disk
  const fDsk = Math.round(tDsk - h.reserved.diskGiB * 1024);
  const tags = [...h.tags];
  if (h.state === 'standby' && !tags.some((t) => t.startsWith(STANDBY_TAG_PREFIX)))
    tags.push('htools:standby:auto');
  const role = h.state === 'on' ? (master ? 'M' : 'N') : 'Y';
  const fields = [
    ganetiName(h.id, 'host'),
    Math.round(h.capacity.memMiB),
    nMem,
    Math.round(h.capacity.memMiB - nMem - memUsed),
    tDsk,
    fDsk,
    h.capacity.cpu,
    role,
    groupUuid,
    1,
    tags.join(','),
    'N',
    0,
    Math.round(h.reserved.cpu),
    '1.0',
  ];
  return fields.join('|');
}

function instanceLine(v: Vm): string {
  // Pinned VMs become `diskless`: hsqueeze never moves those and they need no node disk.
  const template = v.pinned ? 'diskless' : 'ext';
  // disk size 0: shared storage takes no node disk, and htools would warn about "missing" disk
  return [
    ganetiName(v.id, 'VM'),
    v.demand.memMiB,
    0,
    Math.ceil(v.demand.cpu),
    'running',
    'Y',
    v.host,
    '',
    template,
    '',
    1,
    '-',
    'N',
  ].join('|');
}

/**
 * Writes a cluster as Ganeti text (for feeding hsqueeze the same cluster): one node group, every
 * VM a running instance (`ext`, i.e. shared storage and movable; pinned VMs `diskless`), the first
 * keepOn host as master, standby hosts offline with a standby tag, off hosts offline. Unplaced VMs
 * and exclude/drain flags have no Ganeti equivalent and are left out.
 */
export function toGanetiText(cluster: Cluster, opts: GanetiWriteOptions): string {
  const group = opts.groupName ?? 'default';
  const uuid = `${group}-uuid`;
  const byHost = new Map<string, Vm[]>(cluster.hosts.map((h) => [h.id, []]));
  for (const v of cluster.vms) if (v.host !== null) byHost.get(v.host)?.push(v);
  const master = cluster.hosts.find((h) => h.keepOn && h.state === 'on')?.id;
  const placed = cluster.vms.filter((v) => v.host !== null && byHost.has(v.host));
  const maxMem = Math.max(32768, ...placed.map((v) => v.demand.memMiB));
  const maxCpu = Math.max(8, ...placed.map((v) => Math.ceil(v.demand.cpu)));
  const maxDsk = Math.max(1048576, ...placed.map((v) => Math.round(v.demand.diskGiB * 1024)));
  const s = opts.standard;
  const std = `${s.memMiB},${s.cpu},${Math.round(s.diskGiB * 1024)},1,1,1`;
  const policy = `${std}|1,1,0,1,1,1;${maxMem},${maxCpu},${maxDsk},16,8,12|${TEMPLATES.join(',')}|${ratio(opts.vcpuRatio)}|32.0`;
  const lines = [
    `${group}|${uuid}|preferred||`,
    '',
    ...cluster.hosts.map((h) => nodeLine(h, byHost.get(h.id)!, h.id === master, uuid)),
    '',
    ...placed.map(instanceLine),
    '',
    '',
    `|${policy}`,
    `${group}|${policy}`,
  ];
  return `${lines.join('\n')}\n`;
}
