import type { LibvirtErrorData } from './errors.js';
import type { LibvirtConnection } from './types.js';

/** Methods a worker runs on its connection: every LibvirtConnection method. */
export type WorkerMethod = Exclude<keyof LibvirtConnection, 'uri' | 'closed'>;

export interface WorkerInit {
  readonly uri: string;
  readonly keepAliveIntervalS: number;
  readonly keepAliveCount: number;
}

export interface WorkerRequest {
  readonly id: number;
  readonly method: WorkerMethod;
  readonly args: readonly unknown[];
}

/** Reply to a request; id 0 answers the connection open. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: LibvirtErrorData };
