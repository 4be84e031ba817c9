import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { HostProbe } from '../inventory/types.js';
import type { Resources } from '../model/resources.js';
import { TAG, type StateStore } from '../state/types.js';
import { SshTrustError } from './ssh/ssh.js';
import type { HostPower, OffMethod, OnMethod } from './types.js';

/** Deadlines and pacing of power actions, all in ms. */
export interface PowerTiming {
  /** Pause between two checks while waiting for a state. */
  readonly pollMs: number;
  /** How long each `off` step may take to be confirmed before the next step is tried. */
  readonly offTimeoutMs: number;
  /** How long a woken host may take to be verified: BMC on, SSH answers, libvirt reports capacity. */
  readonly wakeTimeoutMs: number;
  /** Pause between two power actions of one run (so a rack's breakers never see every host at once). */
  readonly staggerMs: number;
}

/** Everything a power sequence needs, passed in (no singletons). */
export interface SequenceContext {
  readonly store: StateStore;
  /** A fresh look at the host (libvirt): domains before a power-off, capacity after a wake. */
  readonly probe: HostProbe;
  /** The host's power control; undefined when the config has no `power:` section for it. */
  readonly powerFor: (hostId: string) => HostPower | undefined;
  readonly timing: PowerTiming;
  readonly runId: string;
  /** Who acts, for the tags' `by` (`run <id>`, `admin alice`). */
  readonly actor: string;
  readonly nowMs: () => number;
  readonly log?: Logger;
  readonly signal?: AbortSignal;
}

export interface PowerOffDone {
  readonly ok: true;
  readonly host: string;
  readonly method: OffMethod;
  /** The BMC's reading just before the power-off (the draw the standby saves), when it offers one. */
  readonly watts?: number;
}
export interface PowerOffRefused {
  readonly ok: false;
  readonly host: string;
  /** `refused`: the fresh look forbade it, nothing was done; `failed`: a step was tried and no step was confirmed. */
  readonly kind: 'refused' | 'failed';
  readonly reason: string;
}
export type PowerOffOutcome = PowerOffDone | PowerOffRefused;

export interface WakeDone {
  readonly ok: true;
  readonly host: string;
  readonly method: OnMethod;
  readonly capacity: Resources;
  readonly tookMs: number;
}
export interface WakeFailed {
  readonly ok: false;
  readonly host: string;
  /** Where verification stopped: `power-on`, `bmc`, `ssh` or `libvirt`. */
  readonly stage: WakeStage;
  readonly reason: string;
}
export type WakeStage = 'power-on' | 'bmc' | 'ssh' | 'libvirt';
export type WakeOutcome = WakeDone | WakeFailed;

/** What a multi-host wake achieved. */
export interface WakeReport {
  readonly woken: readonly WakeDone[];
  /** Hosts that failed and are now quarantined (`wake-failed`). */
  readonly failed: readonly WakeFailed[];
  /** How many of the wanted hosts could not be woken (no candidate left, or the action bound was reached). */
  readonly shortBy: number;
}

function journal(
  ctx: SequenceContext,
  action: string,
  host: string,
  phase: 'intent' | 'done' | 'failed',
  detail?: string,
): void {
  ctx.store.journal({
    runId: ctx.runId,
    atMs: ctx.nowMs(),
    action,
    target: host,
    phase,
    ...(detail ? { detail } : {}),
  });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Polls `check` until it returns true or the deadline passes. A throwing check counts as "not yet"
 * (a host that is booting refuses connections) unless `fatal` says the error will not go away.
 */
async function waitUntil(
  ctx: SequenceContext,
  deadlineMs: number,
  check: () => Promise<boolean>,
  fatal: (err: unknown) => boolean = () => false,
): Promise<{ ok: true } | { ok: false; last: string }> {
  for (;;) {
    if (ctx.signal?.aborted) return { ok: false, last: 'aborted' };
    let last: string;
    try {
      if (await check()) return { ok: true };
      last = 'not yet';
    } catch (err) {
      if (fatal(err)) return { ok: false, last: message(err) };
      last = message(err);
    }
    const left = deadlineMs - ctx.nowMs();
    if (left <= 0) return { ok: false, last };
    await sleep(Math.min(ctx.timing.pollMs, left), undefined, ctx.signal ? { signal: ctx.signal } : {}).catch(
      () => undefined,
    );
  }
}

/** True once the BMC (or site command) says off, or, with neither, once SSH stops answering twice in a row. */
async function confirmOff(
  ctx: SequenceContext,
  power: HostPower,
): Promise<{ ok: true } | { ok: false; last: string }> {
  const deadline = ctx.nowMs() + ctx.timing.offTimeoutMs;
  if (power.hasStatus)
    return waitUntil(ctx, deadline, async () => (await power.status(ctx.signal)) === 'off');
  if (!power.hasAnswers)
    return { ok: false, last: 'nothing can confirm the power state (no ipmi, command or ssh driver)' };
  let silent = 0;
  return waitUntil(ctx, deadline, async () => {
    silent = (await power.answers(ctx.signal)) === false ? silent + 1 : 0;
    return silent >= 2;
  });
}

/**
 * The power-off sequence (DESIGN.md 5.1): a fresh look (the host must be reachable and hold no
 * domain at all, and not be excluded), then each `off` step in order until one is confirmed off
 * (BMC, or unreachability), then the `standby` tag. Journaled before and after.
 */
export async function powerOffHost(
  ctx: SequenceContext,
  hostId: string,
  why: string,
): Promise<PowerOffOutcome> {
  journal(ctx, 'power-off', hostId, 'intent', why);
  const refuse = (kind: PowerOffRefused['kind'], reason: string): PowerOffOutcome => {
    journal(ctx, 'power-off', hostId, 'failed', reason);
    if (kind === 'failed')
      ctx.store.recordPower({ host: hostId, atMs: ctx.nowMs(), kind: 'off-failed', detail: reason });
    ctx.log?.warn({ host: hostId, reason }, 'power-off not done');
    return { ok: false, host: hostId, kind, reason };
  };
  const power = ctx.powerFor(hostId);
  if (!power) return refuse('refused', 'no power section in the config');
  if (power.offMethods.length === 0) return refuse('refused', 'no power-off method configured');
  if (ctx.store.tags(hostId).some((t) => t.tag === TAG.exclude)) return refuse('refused', 'host is excluded');
  let domains: number;
  try {
    domains = await ctx.probe.domainCount(hostId, ctx.signal);
  } catch (err) {
    return refuse('refused', `fresh look failed, host treated as unreachable: ${message(err)}`);
  }
  if (domains > 0) return refuse('refused', `fresh look: host still holds ${domains} domain(s)`);
  const watts = await power.readPowerWatts(ctx.signal).catch(() => undefined);
  const failures: string[] = [];
  for (const method of power.offMethods) {
    ctx.log?.info({ host: hostId, method }, 'power-off step');
    try {
      await power.powerOff(method, ctx.signal);
    } catch (err) {
      failures.push(`${method}: ${message(err)}`);
      continue;
    }
    const confirmed = await confirmOff(ctx, power);
    if (confirmed.ok) {
      ctx.store.addTag({ host: hostId, tag: TAG.standby, by: ctx.actor, atMs: ctx.nowMs(), why });
      ctx.store.recordPower({
        host: hostId,
        atMs: ctx.nowMs(),
        kind: 'off',
        detail: method,
        ...(watts ? { watts } : {}),
      });
      journal(ctx, 'power-off', hostId, 'done', method);
      ctx.log?.info({ host: hostId, method, watts }, 'host is off, tagged standby');
      return { ok: true, host: hostId, method, ...(watts ? { watts } : {}) };
    }
    failures.push(`${method}: not confirmed off within ${ctx.timing.offTimeoutMs} ms (${confirmed.last})`);
  }
  return refuse('failed', failures.join('; '));
}

/**
 * The wake sequence (DESIGN.md 5.7): power on, then wait until the BMC says on, SSH answers and
 * libvirt reports capacity, all within the wake timeout; only then remove `standby`. A failure
 * quarantines the host (`wake-failed`) until an admin removes the tag.
 */
export async function wakeHost(ctx: SequenceContext, hostId: string, why: string): Promise<WakeOutcome> {
  journal(ctx, 'wake', hostId, 'intent', why);
  const started = ctx.nowMs();
  const fail = (stage: WakeStage, reason: string): WakeFailed => {
    const detail = `${stage}: ${reason}`;
    ctx.store.addTag({ host: hostId, tag: TAG.wakeFailed, by: ctx.actor, atMs: ctx.nowMs(), why: detail });
    ctx.store.recordPower({ host: hostId, atMs: ctx.nowMs(), kind: 'wake-failed', detail });
    journal(ctx, 'wake', hostId, 'failed', detail);
    ctx.log?.error({ host: hostId, stage, reason }, 'wake failed: host quarantined (wake-failed)');
    return { ok: false, host: hostId, stage, reason };
  };
  const power = ctx.powerFor(hostId);
  if (!power) return fail('power-on', 'no power section in the config');
  let method: OnMethod;
  try {
    method = await power.powerOn(ctx.signal);
  } catch (err) {
    return fail('power-on', message(err));
  }
  const deadline = started + ctx.timing.wakeTimeoutMs;
  const within = `within ${ctx.timing.wakeTimeoutMs} ms`;
  if (power.hasStatus) {
    const on = await waitUntil(ctx, deadline, async () => (await power.status(ctx.signal)) === 'on');
    if (!on.ok) return fail('bmc', `not reported on ${within} (${on.last})`);
  }
  if (power.hasAnswers) {
    const up = await waitUntil(
      ctx,
      deadline,
      async () => (await power.answers(ctx.signal)) === true,
      isTrustError,
    );
    if (!up.ok) return fail('ssh', `SSH did not answer ${within} (${up.last})`);
  }
  let capacity: Resources | undefined;
  const reports = await waitUntil(ctx, deadline, async () => {
    capacity = await ctx.probe.capacity(hostId, ctx.signal);
    return capacity.cpu > 0 && capacity.memMiB > 0;
  });
  if (!reports.ok) return fail('libvirt', `libvirt did not report capacity ${within} (${reports.last})`);
  ctx.store.removeTag(hostId, TAG.standby);
  ctx.store.recordPower({ host: hostId, atMs: ctx.nowMs(), kind: 'on', detail: method });
  journal(ctx, 'wake', hostId, 'done', method);
  const tookMs = ctx.nowMs() - started;
  ctx.log?.info({ host: hostId, method, tookMs }, 'host woken and verified');
  return { ok: true, host: hostId, method, capacity: capacity!, tookMs };
}

function isTrustError(err: unknown): boolean {
  return err instanceof SshTrustError;
}

/** True when the store says the host must not be woken: quarantined or excluded. */
export function isBlocked(store: StateStore, hostId: string): boolean {
  return store.tags(hostId).some((t) => t.tag === TAG.wakeFailed || t.tag === TAG.exclude);
}

/** Standby-tagged hosts that may be woken, from `hostIds` in their given order. */
export function wakeCandidates(store: StateStore, hostIds: readonly string[]): string[] {
  const standby = new Set(
    store
      .tags()
      .filter((t) => t.tag === TAG.standby)
      .map((t) => t.host),
  );
  return hostIds.filter((h) => standby.has(h) && !isBlocked(store, h));
}

/**
 * Wakes `wanted` hosts from `candidates` (in order): a host that fails is quarantined and the next
 * candidate is tried. At most `maxActions` hosts are powered on in this run; actions are
 * `staggerMs` apart.
 */
export async function wakeHosts(
  ctx: SequenceContext,
  candidates: readonly string[],
  wanted: number,
  maxActions: number,
  why: string,
): Promise<WakeReport> {
  const woken: WakeDone[] = [];
  const failed: WakeFailed[] = [];
  let actions = 0;
  for (const host of candidates) {
    if (woken.length >= wanted || actions >= maxActions || ctx.signal?.aborted) break;
    if (isBlocked(ctx.store, host)) continue;
    if (actions > 0) await stagger(ctx);
    actions++;
    const outcome = await wakeHost(ctx, host, why);
    if (outcome.ok) woken.push(outcome);
    else failed.push(outcome);
  }
  return { woken, failed, shortBy: Math.max(0, wanted - woken.length) };
}

/** Waits the configured stagger between two power actions (abortable). */
export async function stagger(ctx: SequenceContext): Promise<void> {
  if (ctx.timing.staggerMs > 0)
    await sleep(ctx.timing.staggerMs, undefined, ctx.signal ? { signal: ctx.signal } : {}).catch(
      () => undefined,
    );
}

/** The standby host that has been off longest (by its last `off` event; never recorded = longest), or undefined. */
export function pickDrillHost(store: StateStore, standbyHosts: readonly string[]): string | undefined {
  let best: { host: string; sinceMs: number } | undefined;
  for (const host of wakeCandidates(store, standbyHosts)) {
    const lastOff =
      store.powerHistory(host, 50).find((e) => e.kind === 'off')?.atMs ?? Number.NEGATIVE_INFINITY;
    if (!best || lastOff < best.sinceMs) best = { host, sinceMs: lastOff };
  }
  return best?.host;
}

/** What a wake drill did. */
export interface DrillOutcome {
  readonly host: string;
  readonly wake: WakeOutcome;
  /** Putting it back to standby; absent when the wake failed. */
  readonly back?: PowerOffOutcome;
}

/**
 * A wake drill: wake the standby host off longest, verify it fully, and put it back to standby, so a
 * broken host is found (and quarantined) before it is needed. Undefined when no host qualifies.
 */
export async function wakeDrill(
  ctx: SequenceContext,
  standbyHosts: readonly string[],
): Promise<DrillOutcome | undefined> {
  const host = pickDrillHost(ctx.store, standbyHosts);
  if (!host) return undefined;
  const wake = await wakeHost(ctx, host, 'wake drill');
  if (!wake.ok) {
    ctx.store.recordPower({
      host,
      atMs: ctx.nowMs(),
      kind: 'drill-failed',
      detail: `${wake.stage}: ${wake.reason}`,
    });
    return { host, wake };
  }
  await stagger(ctx);
  const back = await powerOffHost(ctx, host, 'wake drill: back to standby');
  ctx.store.recordPower({
    host,
    atMs: ctx.nowMs(),
    kind: back.ok ? 'drill-ok' : 'drill-failed',
    detail: back.ok ? `woke in ${wake.tookMs} ms, back off by ${back.method}` : back.reason,
  });
  return { host, wake, back };
}

/** Drill settings (top-level `power.drills`). */
export interface DrillPolicy {
  readonly enabled: boolean;
  /** Quiet hours, minutes after local midnight; `startMin > endMin` spans midnight. */
  readonly startMin: number;
  readonly endMin: number;
  /** Least time between two drills, ms. */
  readonly minIntervalMs: number;
}

/**
 * True when a drill should run now: enabled, inside the quiet hours (`minuteOfDay` is local
 * minutes after midnight), and the last drill (ms, undefined = never) is long enough ago. Pure.
 */
export function drillDue(
  policy: DrillPolicy,
  nowMs: number,
  minuteOfDay: number,
  lastDrillMs?: number,
): boolean {
  if (!policy.enabled) return false;
  const { startMin, endMin } = policy;
  const inside =
    startMin <= endMin
      ? minuteOfDay >= startMin && minuteOfDay < endMin
      : minuteOfDay >= startMin || minuteOfDay < endMin;
  return inside && (lastDrillMs === undefined || nowMs - lastDrillMs >= policy.minIntervalMs);
}

/** What recovering one interrupted power action did. */
export interface Recovered {
  readonly host: string;
  readonly action: 'power-off' | 'wake';
  /** The run that was killed mid-action. */
  readonly fromRun: string;
  readonly result: string;
}

/**
 * Crash recovery (DESIGN.md 5.4): every power action a killed run left without an outcome is
 * finished from what the host says now. An interrupted power-off whose host is off gets its
 * `standby` tag (no forgotten powered-off host); one whose host is still on is closed as failed
 * (no half-tagged host). An interrupted wake is redone: power-on is idempotent, and the host is
 * used only after full verification, else quarantined. Outcomes are journaled under the old run.
 */
export async function recoverInterrupted(ctx: SequenceContext): Promise<Recovered[]> {
  const done: Recovered[] = [];
  for (const intent of ctx.store.unfinishedActions()) {
    if (intent.runId === ctx.runId || (intent.action !== 'power-off' && intent.action !== 'wake')) continue;
    const close = (phase: 'done' | 'failed', result: string): void => {
      ctx.store.journal({
        ...intent,
        atMs: ctx.nowMs(),
        phase,
        detail: `recovered by run ${ctx.runId}: ${result}`,
      });
      done.push({
        host: intent.target,
        action: intent.action as Recovered['action'],
        fromRun: intent.runId,
        result,
      });
      ctx.log?.warn(
        { host: intent.target, action: intent.action, from_run: intent.runId, result },
        'recovered interrupted action',
      );
    };
    if (intent.action === 'wake') {
      const w = await wakeHost(ctx, intent.target, `recovery of an interrupted wake (run ${intent.runId})`);
      close(w.ok ? 'done' : 'failed', w.ok ? 'woken and verified' : `quarantined: ${w.stage}: ${w.reason}`);
      continue;
    }
    const state = await (ctx.powerFor(intent.target)?.status(ctx.signal) ?? Promise.resolve('unknown')).catch(
      () => 'unknown',
    );
    if (state === 'off') {
      ctx.store.addTag({
        host: intent.target,
        tag: TAG.standby,
        by: ctx.actor,
        atMs: ctx.nowMs(),
        why: `found off after run ${intent.runId} was interrupted`,
      });
      ctx.store.recordPower({ host: intent.target, atMs: ctx.nowMs(), kind: 'off', detail: 'recovered' });
      close('done', 'host is off: tagged standby');
    } else close('failed', `interrupted; host is ${state}: not tagged`);
  }
  return done;
}

/** When the last drill (of any of `hosts`) ended, ms; undefined when none ever ran. */
export function lastDrillMs(store: StateStore, hosts: readonly string[]): number | undefined {
  let last: number | undefined;
  for (const h of hosts) {
    const e = store.powerHistory(h, 200).find((x) => x.kind === 'drill-ok' || x.kind === 'drill-failed');
    if (e && (last === undefined || e.atMs > last)) last = e.atMs;
  }
  return last;
}

/**
 * The run's drill hook: runs {@link wakeDrill} when {@link drillDue} says so for `now` (local quiet
 * hours) and the store's last drill; undefined when no drill was due or no host qualified.
 */
export async function drillIfDue(
  ctx: SequenceContext,
  policy: DrillPolicy,
  standbyHosts: readonly string[],
  now: Date,
): Promise<DrillOutcome | undefined> {
  const minute = now.getHours() * 60 + now.getMinutes();
  if (!drillDue(policy, now.getTime(), minute, lastDrillMs(ctx.store, standbyHosts))) return undefined;
  return wakeDrill(ctx, standbyHosts);
}
