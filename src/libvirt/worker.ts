/**
 * Worker-thread entry: owns one libvirt connection and runs its calls synchronously, so the main event
 * loop never blocks and libvirt's thread-local error is read on the thread that made the failing call.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FfiConnection, FfiError } from './ffi.js';
import { VIR_ERR, type LibvirtErrorData } from './errors.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('libvirt worker must run in a worker thread');

const init = workerData as WorkerInit;

function errorData(e: unknown, fn: string): LibvirtErrorData {
  if (e instanceof FfiError) return e.data;
  return {
    code: VIR_ERR.OPERATION_FAILED,
    domain: 0,
    message: e instanceof Error ? e.message : String(e),
    fn,
  };
}

let conn: FfiConnection | undefined;
try {
  conn = FfiConnection.open(init.uri, init.keepAliveIntervalS, init.keepAliveCount);
  port.postMessage({ id: 0, ok: true, value: null } satisfies WorkerReply);
} catch (e) {
  port.postMessage({ id: 0, ok: false, error: errorData(e, 'virConnectOpen') } satisfies WorkerReply);
}

port.on('message', (req: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    if (conn === undefined) throw new Error('not connected');
    const fn = conn[req.method] as (...args: unknown[]) => unknown;
    reply = { id: req.id, ok: true, value: fn.apply(conn, [...req.args]) };
    if (req.method === 'close') conn = undefined;
  } catch (e) {
    reply = { id: req.id, ok: false, error: errorData(e, req.method) };
  }
  port.postMessage(reply);
});
