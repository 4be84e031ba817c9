/**
 * Resource vectors. Every quantity in the model is one of these three dimensions:
 * CPU in vCPUs (for a host: hardware threads before overcommit), memory in MiB, disk in GiB.
 */
export interface Resources {
  readonly cpu: number;
  readonly memMiB: number;
  readonly diskGiB: number;
}

/** Overcommit ratios per dimension (allowed allocation = capacity x ratio). */
export interface Ratios {
  readonly cpu: number;
  readonly mem: number;
  readonly disk: number;
}

/** The three dimensions, in a fixed order for loops and messages. */
export const DIMENSIONS = ['cpu', 'memMiB', 'diskGiB'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Human label of a dimension, for reasons and errors. */
export const DIMENSION_LABEL: Record<Dimension, string> = {
  cpu: 'vCPU',
  memMiB: 'memory MiB',
  diskGiB: 'disk GiB',
};

export const ZERO: Resources = Object.freeze({ cpu: 0, memMiB: 0, diskGiB: 0 });

export function add(a: Resources, b: Resources): Resources {
  return { cpu: a.cpu + b.cpu, memMiB: a.memMiB + b.memMiB, diskGiB: a.diskGiB + b.diskGiB };
}

export function sub(a: Resources, b: Resources): Resources {
  return { cpu: a.cpu - b.cpu, memMiB: a.memMiB - b.memMiB, diskGiB: a.diskGiB - b.diskGiB };
}

/** True when `a` fits inside `b` in every dimension. */
export function fitsWithin(a: Resources, b: Resources): boolean {
  return a.cpu <= b.cpu && a.memMiB <= b.memMiB && a.diskGiB <= b.diskGiB;
}

/** Capacity scaled by overcommit ratios. */
export function scale(capacity: Resources, ratios: Ratios): Resources {
  return {
    cpu: capacity.cpu * ratios.cpu,
    memMiB: capacity.memMiB * ratios.mem,
    diskGiB: capacity.diskGiB * ratios.disk,
  };
}

/** The first dimension in which `a` exceeds `b`, or undefined when it fits. */
export function firstExceeded(a: Resources, b: Resources): Dimension | undefined {
  return DIMENSIONS.find((d) => a[d] > b[d]);
}
