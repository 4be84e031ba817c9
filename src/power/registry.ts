import { z } from 'zod';
import type { Logger } from 'pino';
import { BackendError } from '../errors.js';
import { CommandDriver, commandSchema } from './command/index.js';
import { IpmiDriver, ipmiSchema } from './ipmi/index.js';
import { SshDriver, sshSchema } from './ssh/index.js';
import type { HostPower, OffMethod, OnMethod, PowerDriver, PowerState } from './types.js';
import { WolDriver, wolSchema } from './wol/index.js';

/**
 * Every power driver: its config schema and the `on`/`off` methods it provides. The per-host
 * `power:` section is built from this table, so adding a driver here is all the config needs and
 * an unknown driver or method is a config error.
 */
export const POWER_DRIVERS = {
  ipmi: { schema: ipmiSchema, on: ['ipmi'], off: ['ipmi-soft', 'ipmi-hard'] },
  wol: { schema: wolSchema, on: ['wol'], off: [] },
  ssh: { schema: sshSchema, on: [], off: ['ssh'] },
  command: { schema: commandSchema, on: ['command'], off: ['command'] },
} as const satisfies Record<
  string,
  { schema: z.ZodType; on: readonly OnMethod[]; off: readonly OffMethod[] }
>;

export type DriverName = keyof typeof POWER_DRIVERS;
export const DRIVER_NAMES = Object.keys(POWER_DRIVERS) as DriverName[];
const ON_METHODS = DRIVER_NAMES.flatMap((d) => POWER_DRIVERS[d].on) as OnMethod[];
const OFF_METHODS = DRIVER_NAMES.flatMap((d) => POWER_DRIVERS[d].off) as OffMethod[];

/** The driver a method belongs to (`ipmi-soft` -> `ipmi`). */
export function driverOf(method: OnMethod | OffMethod): DriverName {
  return method.startsWith('ipmi') ? 'ipmi' : (method as DriverName);
}

/** Methods used when a host lists none: on by BMC then WoL; off gracefully, never a hard cut unless asked. */
const DEFAULT_ON: readonly OnMethod[] = ['ipmi', 'wol', 'command'];
const DEFAULT_OFF: readonly OffMethod[] = ['ssh', 'ipmi-soft', 'command'];

const onMethod = z.enum(ON_METHODS as [OnMethod, ...OnMethod[]], {
  error: (iss) => `unknown power-on method ${JSON.stringify(iss.input)} (known: ${ON_METHODS.join(', ')})`,
});
const offMethod = z.enum(OFF_METHODS as [OffMethod, ...OffMethod[]], {
  error: (iss) => `unknown power-off method ${JSON.stringify(iss.input)} (known: ${OFF_METHODS.join(', ')})`,
});

const driverSections = {
  ipmi: ipmiSchema.optional(),
  wol: wolSchema.optional(),
  ssh: sshSchema.optional(),
  command: commandSchema.optional(),
} satisfies Record<DriverName, z.ZodType>;

/** The per-host `power:` section. */
export const hostPowerSchema = z
  .strictObject(
    {
      on: z
        .array(onMethod)
        .optional()
        .meta({ description: 'power-on methods, tried in order until one is accepted' }),
      off: z
        .array(offMethod)
        .optional()
        .meta({ description: 'power-off steps, in order, each verified; ipmi-hard only when listed' }),
      ...driverSections,
    },
    {
      error: (iss) =>
        iss.code === 'unrecognized_keys'
          ? `unknown power driver ${iss.keys.map((k) => JSON.stringify(k)).join(', ')} (known: ${DRIVER_NAMES.join(', ')}; plus on, off)`
          : undefined,
    },
  )
  .superRefine((p, ctx) => {
    const present = DRIVER_NAMES.filter((d) => p[d] !== undefined);
    if (present.length === 0)
      ctx.addIssue({
        code: 'custom',
        message: `configure at least one power driver (${DRIVER_NAMES.join(', ')})`,
      });
    for (const key of ['on', 'off'] as const)
      (p[key] ?? []).forEach((m, i) => {
        if (p[driverOf(m)] === undefined)
          ctx.addIssue({ code: 'custom', path: [key, i], message: `${m} needs a "${driverOf(m)}:" section` });
      });
  })
  .transform((p) => ({
    ...p,
    on: p.on ?? DEFAULT_ON.filter((m) => p[driverOf(m)] !== undefined),
    off: p.off ?? DEFAULT_OFF.filter((m) => p[driverOf(m)] !== undefined),
  }))
  .meta({ description: 'how virt-squeeze powers this host on and off' });

export type HostPowerConfig = z.output<typeof hostPowerSchema>;

type Drivers = Partial<Record<DriverName, PowerDriver>>;

function buildDrivers(hostId: string, cfg: HostPowerConfig, log?: Logger): Drivers {
  return {
    ...(cfg.ipmi ? { ipmi: new IpmiDriver(hostId, cfg.ipmi, log) } : {}),
    ...(cfg.wol ? { wol: new WolDriver(hostId, cfg.wol) } : {}),
    ...(cfg.ssh ? { ssh: new SshDriver(hostId, cfg.ssh, log) } : {}),
    ...(cfg.command ? { command: new CommandDriver(hostId, cfg.command) } : {}),
  };
}

/** Power control of one host from its `power:` section. */
export function createHostPower(hostId: string, cfg: HostPowerConfig, log?: Logger): HostPower {
  return composeHostPower(hostId, cfg.on, cfg.off, buildDrivers(hostId, cfg, log));
}

/** Composes drivers into a HostPower (exported for tests that bring their own drivers). */
export function composeHostPower(
  hostId: string,
  onMethods: readonly OnMethod[],
  offMethods: readonly OffMethod[],
  drivers: Drivers,
): HostPower {
  const statusDriver = drivers.ipmi?.status
    ? drivers.ipmi
    : drivers.command?.status
      ? drivers.command
      : undefined;
  const need = (name: DriverName): PowerDriver => {
    const d = drivers[name];
    if (!d) throw new BackendError(`host ${hostId}: no ${name} power driver configured`);
    return d;
  };
  return {
    hostId,
    onMethods,
    offMethods,
    hasStatus: statusDriver !== undefined,
    hasAnswers: drivers.ssh?.answers !== undefined,
    status: (signal) => statusDriver?.status?.(signal) ?? Promise.resolve<PowerState>('unknown'),
    async powerOn(signal) {
      const failures: string[] = [];
      for (const m of onMethods) {
        try {
          await need(driverOf(m)).powerOn!(signal);
          return m;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
      throw new BackendError(
        failures.length ? failures.join('; ') : `host ${hostId}: no power-on method configured`,
      );
    },
    powerOff: (method, signal) =>
      need(driverOf(method)).powerOff!(
        method === 'ipmi-hard' ? 'hard' : method === 'ssh' ? 'graceful' : 'soft',
        signal,
      ),
    answers: (signal) => drivers.ssh?.answers?.(signal) ?? Promise.resolve(undefined),
    readPowerWatts: (signal) => drivers.ipmi?.readPowerWatts?.(signal) ?? Promise.resolve(undefined),
  };
}
