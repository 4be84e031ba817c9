import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { ActionsFailedError, BackendError, InputError } from '../errors.js';
import type { HostProbe } from '../inventory/types.js';
import { createLogger, newRunId } from '../log.js';
import type { Cluster } from '../model/cluster.js';
import { isBlocked, powerOffHost, wakeHost, type SequenceContext } from '../power/sequences.js';
import { openStateStore, TAG, type SqliteStateStore } from '../state/index.js';
import type { Io } from './io.js';
import { addSourceOptions } from './plan.js';
import { libvirtProbe, loadPowerEnv, openStoreIfPresent, requireHost, type PowerEnv } from './status.js';

interface HostFlags {
  config?: string;
  cluster?: string;
  dryRun?: boolean;
  why?: string;
}

/** Who acts, for tags and the journal: the admin behind sudo, else the user. */
function actor(): string {
  return `admin ${process.env.SUDO_USER || userInfo().username}`;
}

/**
 * The fresh look for a host: libvirt when the host has a URI; otherwise the cluster file itself
 * (demo and simulation clusters have no live host to ask).
 */
function probeFor(env: PowerEnv, hostId: string): { probe: HostProbe; source: string } {
  if (env.hostConfig(hostId)?.uri) return { probe: libvirtProbe(env.run), source: 'libvirt' };
  return { probe: snapshotProbe(env.run.cluster), source: `cluster file ${env.run.cluster.source}` };
}

function snapshotProbe(cluster: Cluster): HostProbe {
  return {
    domainCount: async (hostId) => cluster.vms.filter((v) => v.host === hostId).length,
    capacity: async (hostId) => {
      const h = cluster.hosts.find((x) => x.id === hostId);
      if (!h) throw new BackendError(`host ${hostId} is not in ${cluster.source}`);
      return h.capacity;
    },
  };
}

/** Runs `fn` with the store open and the run lock held (a power action must not race a run). */
async function withLockedStore<T>(
  env: PowerEnv,
  fn: (store: SqliteStateStore, runId: string) => Promise<T>,
): Promise<T> {
  const store = openStateStore(env.statePath);
  try {
    const runId = `admin-${newRunId()}`;
    const lock = store.acquireLock(runId);
    try {
      return await fn(store, runId);
    } finally {
      lock.release();
    }
  } finally {
    store.close();
  }
}

function sequenceContext(
  env: PowerEnv,
  store: SqliteStateStore,
  runId: string,
  probe: HostProbe,
): SequenceContext {
  return {
    store,
    probe,
    powerFor: (id) => env.powerFor(id),
    timing: env.timing,
    runId,
    actor: actor(),
    nowMs: Date.now,
    log: createLogger({ destination: process.stderr, isTTY: false, runId }),
  };
}

/** Why powering the host off would leave fewer than `min_online_hosts` on (DESIGN.md 5.1), or undefined. */
function minOnlineProblem(
  env: PowerEnv,
  hostId: string,
  standbyTagged: ReadonlySet<string>,
): string | undefined {
  const online = env.run.cluster.hosts.filter((h) => h.state === 'on' && !standbyTagged.has(h.id));
  if (!online.some((h) => h.id === hostId)) return undefined;
  const min = env.run.policy.safety.minOnlineHosts;
  return online.length - 1 < min
    ? `would leave ${online.length - 1} host(s) online, fewer than min_online_hosts ${min}`
    : undefined;
}

function standbyTags(store: { tags(): Array<{ host: string; tag: string }> } | undefined): Set<string> {
  return new Set((store?.tags() ?? []).filter((t) => t.tag === TAG.standby).map((t) => t.host));
}

async function standby(io: Io, hostId: string, flags: HostFlags): Promise<void> {
  const env = await loadPowerEnv(flags);
  requireHost(env, hostId);
  const why = flags.why ?? 'admin: host standby';
  const { probe, source } = probeFor(env, hostId);
  if (flags.dryRun) {
    const store = openStoreIfPresent(env.statePath);
    const problem = minOnlineProblem(env, hostId, standbyTags(store));
    store?.close();
    if (problem) return io.out(`dry run: would refuse: ${problem}. Nothing changed.\n`);
    return io.out(await describeStandby(env, hostId, probe, source));
  }
  const out = await withLockedStore(env, (store, runId) => {
    const problem = minOnlineProblem(env, hostId, standbyTags(store));
    if (problem) throw new ActionsFailedError(`host ${hostId}: power-off refused: ${problem}`);
    return powerOffHost(sequenceContext(env, store, runId, probe), hostId, why);
  });
  if (!out.ok) throw new ActionsFailedError(`host ${hostId}: power-off ${out.kind}: ${out.reason}`);
  io.out(`${hostId}: powered off by ${out.method}, confirmed off, tagged standby\n`);
}

async function describeStandby(
  env: PowerEnv,
  hostId: string,
  probe: HostProbe,
  source: string,
): Promise<string> {
  const power = env.powerFor(hostId);
  if (!power)
    return `dry run: would refuse: host ${hostId} has no power section in the config. Nothing changed.\n`;
  let look: string;
  try {
    const n = await probe.domainCount(hostId);
    look = n > 0 ? `finds ${n} domain(s): the power-off would be refused` : 'finds no domain';
  } catch (err) {
    look = `failed (${(err as Error).message}): the power-off would be refused`;
  }
  const confirm = power.hasStatus ? 'the BMC reporting off' : 'SSH no longer answering';
  return (
    `dry run: would power off ${hostId}\n` +
    `  fresh look (${source}) now ${look}\n` +
    `  steps, in order until one is confirmed by ${confirm} within ${env.timing.offTimeoutMs / 1000} s each: ${power.offMethods.join(' -> ')}\n` +
    `  then tag it standby. Nothing changed.\n`
  );
}

async function wake(io: Io, hostId: string, flags: HostFlags): Promise<void> {
  const env = await loadPowerEnv(flags);
  requireHost(env, hostId);
  const quarantined = (store: { tags(h: string): Array<{ tag: string }> } | undefined): boolean =>
    store?.tags(hostId).some((t) => t.tag === TAG.wakeFailed) ?? false;
  const refusal = `host ${hostId} is quarantined (wake-failed): clear it first with \`virt-squeeze host untag ${hostId} wake-failed\``;
  if (flags.dryRun) {
    const store = openStoreIfPresent(env.statePath);
    const blocked = quarantined(store);
    store?.close();
    return io.out(describeWake(env, hostId, blocked ? refusal : undefined));
  }
  const { probe } = probeFor(env, hostId);
  const out = await withLockedStore(env, async (store, runId) => {
    if (isBlocked(store, hostId) && quarantined(store)) throw new InputError(refusal);
    return wakeHost(sequenceContext(env, store, runId, probe), hostId, flags.why ?? 'admin: host wake');
  });
  if (!out.ok)
    throw new ActionsFailedError(
      `host ${hostId}: wake failed at ${out.stage}: ${out.reason}; quarantined (wake-failed)`,
    );
  io.out(
    `${hostId}: woken by ${out.method} and verified in ${Math.round(out.tookMs / 100) / 10} s; standby removed\n`,
  );
}

function describeWake(env: PowerEnv, hostId: string, refusal?: string): string {
  const power = env.powerFor(hostId);
  if (refusal) return `dry run: would refuse: ${refusal}. Nothing changed.\n`;
  if (!power)
    return `dry run: would refuse: host ${hostId} has no power section in the config. Nothing changed.\n`;
  const checks = [
    ...(power.hasStatus ? ['BMC says on'] : []),
    ...(power.hasAnswers ? ['SSH answers'] : []),
    'libvirt reports capacity',
  ];
  return (
    `dry run: would wake ${hostId} by ${power.onMethods.join(', else ')}\n` +
    `  then verify within ${env.timing.wakeTimeoutMs / 1000} s: ${checks.join(', then ')}\n` +
    `  then remove standby (on failure: quarantine as wake-failed). Nothing changed.\n`
  );
}

async function setTag(io: Io, hostId: string, tag: string, add: boolean, flags: HostFlags): Promise<void> {
  const env = await loadPowerEnv(flags);
  requireHost(env, hostId);
  if (!/^[\w.:-]+$/.test(tag)) throw new InputError(`invalid tag "${tag}": letters, digits, . _ : - only`);
  if (flags.dryRun)
    return io.out(
      `dry run: would ${add ? 'add' : 'remove'} tag ${tag} ${add ? 'to' : 'from'} ${hostId}. Nothing changed.\n`,
    );
  const store = openStateStore(env.statePath);
  try {
    if (add) {
      store.addTag({
        host: hostId,
        tag,
        by: actor(),
        atMs: Date.now(),
        why: flags.why ?? `admin: host tag ${tag}`,
      });
      io.out(`${hostId}: tagged ${tag}\n`);
    } else {
      const had = store.removeTag(hostId, tag);
      io.out(had ? `${hostId}: tag ${tag} removed\n` : `${hostId}: had no tag ${tag}\n`);
    }
  } finally {
    store.close();
  }
}

/** `virt-squeeze host standby|wake|tag|untag|exclude|include HOST`. */
export function registerHost(program: Command, io: Io): void {
  const host = program.command('host').description('Power a host down or up, tag or exclude it');
  const sub = (name: string, description: string): Command => {
    const c = host
      .command(name)
      .description(description)
      .option('-n, --dry-run', 'print what would happen; change nothing')
      .option('--why <text>', 'reason recorded with the tag');
    addSourceOptions(c);
    return c;
  };
  sub('standby', 'Fresh look (no domains), graceful power-off, verify off, tag standby')
    .argument('<host>')
    .action((h: string, f: HostFlags) => standby(io, h, f));
  sub('wake', 'Power on, verify (BMC on, SSH, libvirt capacity), remove standby')
    .argument('<host>')
    .action((h: string, f: HostFlags) => wake(io, h, f));
  sub('tag', 'Add a tag (standby, wake-failed, exclude, or your own)')
    .argument('<host>')
    .argument('<tag>')
    .action((h: string, t: string, f: HostFlags) => setTag(io, h, t, true, f));
  sub('untag', 'Remove a tag (e.g. clear a wake-failed quarantine)')
    .argument('<host>')
    .argument('<tag>')
    .action((h: string, t: string, f: HostFlags) => setTag(io, h, t, false, f));
  sub('exclude', 'Never power down nor give VMs to the host (tag exclude)')
    .argument('<host>')
    .action((h: string, f: HostFlags) => setTag(io, h, TAG.exclude, true, f));
  sub('include', 'Undo exclude')
    .argument('<host>')
    .action((h: string, f: HostFlags) => setTag(io, h, TAG.exclude, false, f));
}
