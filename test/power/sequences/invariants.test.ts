import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError } from '../../../src/errors.js';
import { composeHostPower } from '../../../src/power/registry.js';
import { powerOffHost, wakeHost, type SequenceContext } from '../../../src/power/sequences.js';
import type { OffMethod, PowerDriver, PowerState } from '../../../src/power/types.js';
import { openStateStore, type SqliteStateStore } from '../../../src/state/index.js';
import { testProbe } from './probe.js';

/**
 * Property tests of the sequences' safety rules (DESIGN.md 5.1 and 5.7) over random host
 * behaviour. The drivers here are in-memory recorders: the real drivers are tested against
 * ipmi_sim and sshd in the other suites; these check the sequence logic itself, many times.
 */
let dir: string;
let store: SqliteStateStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vs-inv-'));
  store = openStateStore(join(dir, 'state.db'));
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Behaviour {
  domains: number;
  unreachable: boolean;
  bmcGoesOn: boolean;
  sshAnswers: boolean;
  libvirtAnswers: boolean;
  offMethods: OffMethod[];
}

function recorder(b: Behaviour) {
  const acts: string[] = [];
  let state: PowerState = 'on';
  const ipmi: PowerDriver = {
    name: 'ipmi',
    status: async () => state,
    powerOn: async () => {
      acts.push('ipmi on');
      if (b.bmcGoesOn) state = 'on';
    },
    powerOff: async (mode) => {
      acts.push(`ipmi ${mode}`);
      state = 'off';
    },
  };
  const ssh: PowerDriver = {
    name: 'ssh',
    powerOff: async () => {
      acts.push('ssh poweroff');
      state = 'off';
    },
    answers: async () => b.sshAnswers && state === 'on',
  };
  return {
    acts,
    setState: (s: PowerState) => (state = s),
    power: composeHostPower('h', ['ipmi'], b.offMethods, { ipmi, ssh }),
  };
}

const behaviour = fc.record({
  domains: fc.nat(3),
  unreachable: fc.boolean(),
  bmcGoesOn: fc.boolean(),
  sshAnswers: fc.boolean(),
  libvirtAnswers: fc.boolean(),
  offMethods: fc.subarray<OffMethod>(['ssh', 'ipmi-soft', 'ipmi-hard'], { minLength: 1 }),
});

function ctxFor(b: Behaviour, r: ReturnType<typeof recorder>, runId: string): SequenceContext {
  const probe = testProbe({
    domains: { h: b.domains },
    unreachable: b.unreachable ? new Set(['h']) : new Set(),
    isUp: () => b.libvirtAnswers,
  });
  return {
    store,
    probe,
    powerFor: () => r.power,
    timing: { pollMs: 1, offTimeoutMs: 20, wakeTimeoutMs: 20, staggerMs: 0 },
    runId,
    actor: 'prop',
    nowMs: Date.now,
  };
}

describe('sequence invariants (property tests)', () => {
  it('never asks any driver to power off a host that holds a domain or is unreachable', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(behaviour, async (b) => {
        const r = recorder(b);
        store.removeTag('h', 'standby');
        const out = await powerOffHost(ctxFor(b, r, `p${n++}`), 'h', 'prop');
        if (b.domains > 0 || b.unreachable) {
          expect(out.ok).toBe(false);
          expect(r.acts).toEqual([]);
          expect(store.tags('h')).toEqual([]);
        } else {
          expect(out.ok).toBe(true);
          expect(store.tags('h').map((t) => t.tag)).toEqual(['standby']);
        }
        const phases = store.journalEntries(`p${n - 1}`).map((e) => e.phase);
        expect(phases[0]).toBe('intent');
        expect(phases).toHaveLength(2);
      }),
      { numRuns: 60 },
    );
  });

  it('a woken host loses standby only when BMC, SSH and libvirt all verified it; otherwise it is quarantined', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(behaviour, async (b) => {
        const r = recorder(b);
        r.setState('off');
        for (const t of store.tags('h')) store.removeTag('h', t.tag);
        store.addTag({ host: 'h', tag: 'standby', by: 'prop', atMs: 0, why: 'prop' });
        const out = await wakeHost(ctxFor(b, r, `w${n++}`), 'h', 'prop');
        const tags = store.tags('h').map((t) => t.tag);
        if (b.bmcGoesOn && b.sshAnswers && b.libvirtAnswers) {
          expect(out.ok).toBe(true);
          expect(tags).toEqual([]);
        } else {
          expect(out.ok).toBe(false);
          expect(tags).toEqual(['standby', 'wake-failed']);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('tries the next power-on method when one fails, and names every failure when all do', async () => {
    const failing = (name: string): PowerDriver => ({
      name,
      powerOn: async () => {
        throw new BackendError(`${name} broken`);
      },
    });
    const works: PowerDriver = { name: 'wol', powerOn: async () => undefined };
    expect(
      await composeHostPower('h', ['ipmi', 'wol'], [], { ipmi: failing('ipmi'), wol: works }).powerOn(),
    ).toBe('wol');
    await expect(
      composeHostPower('h', ['ipmi', 'wol'], [], { ipmi: failing('ipmi'), wol: failing('wol') }).powerOn(),
    ).rejects.toThrow('ipmi broken; wol broken');
  });
});
