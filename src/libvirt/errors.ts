import { BackendError } from '../errors.js';

/** libvirt's `virErrorNumber` values this project reacts to (subset of libvirt's virerror.h). */
export const VIR_ERR = {
  NO_SUPPORT: 3,
  OPERATION_FAILED: 9,
  NO_DOMAIN: 42,
  OPERATION_INVALID: 55,
  OPERATION_ABORTED: 78,
  OPERATION_TIMEOUT: 68,
  SYSTEM_ERROR: 38,
} as const;

/** Codes of errors raised by this binding itself rather than by libvirt (negative, never clash with libvirt's). */
export const BINDING_ERR = {
  /** The call did not answer within its time limit; the connection was dropped. */
  TIMEOUT: -1,
  /** The worker thread died or the connection is closed. */
  CLOSED: -2,
  /** libvirt answered something this binding cannot make sense of. */
  GARBAGE: -3,
} as const;

/** What crosses the worker boundary: plain data, read on the thread that made the failing call. */
export interface LibvirtErrorData {
  /** libvirt `virErrorNumber` (e.g. 42 = no domain), or a negative BINDING_ERR code. */
  readonly code: number;
  /** libvirt `virErrorDomain` (which subsystem raised it); 0 when unknown. */
  readonly domain: number;
  readonly message: string;
  /** The libvirt function (or binding method) that failed. */
  readonly fn: string;
}

/** A libvirt call failed: carries libvirt's error code, domain and message, and the URI involved. */
export class LibvirtError extends BackendError implements LibvirtErrorData {
  readonly code: number;
  readonly domain: number;
  readonly fn: string;
  readonly uri: string;
  /** libvirt's own message, without the URI/function prefix of `message`. */
  readonly libvirtMessage: string;

  constructor(data: LibvirtErrorData, uri: string) {
    super(`libvirt ${redactUri(uri)}: ${data.fn}: ${data.message} (code ${data.code})`);
    this.code = data.code;
    this.domain = data.domain;
    this.fn = data.fn;
    this.uri = uri;
    this.libvirtMessage = data.message;
  }
}

/** A URI may carry a password in its user part (`qemu+tcp://user:secret@host/`): never show it. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^:@/?]*):[^@/?]*@/, '//$1:***@');
}
