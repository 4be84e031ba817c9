/**
 * libvirt benchmark on two real libvirtd hosts (network namespaces, TCG guests; root only):
 * - inventory time per host (koffi binding, and the virsh fallback for comparison);
 * - overhead of a virt-squeeze migration (LibvirtMigrator: connections, checks, job polling, verification)
 *   over `virsh migrate --live --p2p --persistent --undefinesource` of the same guest between the same
 *   two hosts, alternating the order each round (target: under 10 %);
 * - the main event loop's largest timer lag during virt-squeeze migrations.
 *
 * Called by bench/run.ts (`libvirtSection`); runnable alone: `npx tsx bench/libvirt.ts [--rounds 5]`.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { KoffiConnection } from '../src/libvirt/connection.js';
import { virshConnector } from '../src/libvirt/virsh.js';
import { LibvirtInventory } from '../src/inventory/libvirt/index.js';
import { LibvirtMigrator } from '../src/migration/libvirt/index.js';
import {
  downTwoHosts,
  guestXml,
  migrationHosts,
  upTwoHosts,
  withTimerLag,
  type TwoHosts,
} from '../test/e2e/two-hosts.js';
import { round, table } from './common.js';

const run = promisify(execFile);

export interface LibvirtBenchResult {
  readonly guests: { readonly a: number; readonly b: number };
  /** Median wall time of one inventory read per host (sequential reads, no in-run CPU interval), ms. */
  readonly inventoryMsPerHost: { readonly koffi: number; readonly virsh: number };
  /** Median wall time of a round trip A -> B -> A of one 64 MiB guest, ms. */
  readonly roundTripMs: { readonly virtSqueeze: number; readonly virsh: number };
  readonly migrationOverheadPct: number;
  readonly maxTimerLagMs: number;
  readonly rounds: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

async function defineGuests(uri: string, names: readonly string[]): Promise<void> {
  const c = await KoffiConnection.open(uri);
  try {
    for (const n of names) {
      await c.defineXml(guestXml(n));
      await c.start(n);
    }
  } finally {
    await c.close();
  }
}

async function inventoryMsPerHost(env: TwoHosts, rounds: number, virsh: boolean): Promise<number> {
  const hosts = [
    { id: 'a', uri: env.a.uri },
    { id: 'b', uri: env.b.uri },
  ];
  const inv = new LibvirtInventory(hosts, {
    concurrency: 1,
    perHostTimeoutMs: 60_000,
    sampleIntervalMs: 0,
    dirtyRateSeconds: 0,
    ...(virsh && { connect: virshConnector }),
  });
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const [r, ms] = await timed(() => inv.read());
    if (r.warnings.length > 0) throw new Error(`inventory warnings: ${r.warnings.join('; ')}`);
    times.push(ms / hosts.length);
  }
  return median(times);
}

async function virshMigrate(from: string, toPeer: string, vm: string): Promise<number> {
  const args = [
    '-q',
    '-c',
    from,
    'migrate',
    '--live',
    '--p2p',
    '--persistent',
    '--undefinesource',
    vm,
    toPeer,
  ];
  const [, ms] = await timed(() => run('virsh', args, { env: { ...process.env, LC_ALL: 'C' } }));
  return ms;
}

async function migrationRounds(
  env: TwoHosts,
  rounds: number,
): Promise<{ vsq: number[]; virsh: number[]; lag: number }> {
  const { a, b } = env;
  const migrator = new LibvirtMigrator({
    hosts: migrationHosts(env),
    bandwidthMiBps: 0,
    maxDowntimeMs: 500,
  });
  let maxLag = 0;
  const vsqTrip = async (): Promise<number> => {
    let total = 0;
    for (const [from, to] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      const { result: out, lagMs: lag } = await withTimerLag(() =>
        migrator.migrate({ vm: 'mig', from, to, memMiB: 64, estSeconds: 3 }, { timeoutMs: 120_000 }),
      );
      if (!out.ok) throw new Error(`virt-squeeze migration ${from} -> ${to} failed: ${out.error}`);
      maxLag = Math.max(maxLag, lag);
      total += out.durationMs;
    }
    return total;
  };
  const virshTrip = async (): Promise<number> =>
    (await virshMigrate(a.uri, b.peerUri, 'mig')) + (await virshMigrate(b.uri, a.peerUri, 'mig'));
  const vsq: number[] = [];
  const virsh: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      // Alternate which tool goes first, so warm-up and drift hit both equally.
      if (i % 2 === 0) {
        virsh.push(await virshTrip());
        vsq.push(await vsqTrip());
      } else {
        vsq.push(await vsqTrip());
        virsh.push(await virshTrip());
      }
      process.stderr.write(
        `bench: libvirt round ${i + 1}: virsh ${Math.round(virsh.at(-1)!)} ms, virt-squeeze ${Math.round(vsq.at(-1)!)} ms\n`,
      );
    }
  } finally {
    await migrator.close();
  }
  return { vsq, virsh, lag: maxLag };
}

/** The libvirt section of `npm run bench`. */
export async function libvirtSection(o: { rounds?: number } = {}): Promise<LibvirtBenchResult> {
  if (process.getuid?.() !== 0)
    throw new Error('the libvirt benchmark needs root (network namespaces, libvirtd)');
  const rounds = o.rounds ?? 5;
  const env = await upTwoHosts();
  try {
    const onA = ['mig', 'a1', 'a2', 'a3', 'a4', 'a5'];
    const onB = ['b1', 'b2'];
    await defineGuests(env.a.uri, onA);
    await defineGuests(env.b.uri, onB);
    const koffi = await inventoryMsPerHost(env, 5, false);
    const virsh = await inventoryMsPerHost(env, 5, true);
    const m = await migrationRounds(env, rounds);
    const result: LibvirtBenchResult = {
      guests: { a: onA.length, b: onB.length },
      inventoryMsPerHost: { koffi: round(koffi, 1), virsh: round(virsh, 1) },
      roundTripMs: { virtSqueeze: Math.round(median(m.vsq)), virsh: Math.round(median(m.virsh)) },
      migrationOverheadPct: round(((median(m.vsq) - median(m.virsh)) / median(m.virsh)) * 100, 1),
      maxTimerLagMs: round(m.lag, 1),
      rounds,
    };
    print(result);
    return result;
  } finally {
    await downTwoHosts(env);
  }
}

function print(r: LibvirtBenchResult): void {
  console.log('\n## libvirt (two libvirtd hosts in network namespaces, TCG guests)\n');
  console.log(
    table(
      ['measure', 'virt-squeeze (koffi)', 'virsh', 'note'],
      [
        [
          'inventory ms/host',
          r.inventoryMsPerHost.koffi,
          r.inventoryMsPerHost.virsh,
          `${r.guests.a}+${r.guests.b} guests`,
        ],
        [
          'migration A->B->A ms (median)',
          r.roundTripMs.virtSqueeze,
          r.roundTripMs.virsh,
          `overhead ${r.migrationOverheadPct} % (target < 10 %), ${r.rounds} rounds`,
        ],
        ['max timer lag ms', r.maxTimerLagMs, '-', 'main event loop during migrations'],
      ],
    ),
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
  await libvirtSection({ rounds: Number(values.rounds) });
}
