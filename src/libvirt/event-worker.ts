/**
 * Worker-thread entry that runs libvirt's (process-global) event loop, so that keepalive works: without
 * it, a connection whose peer froze would block its worker thread forever. Started once per process.
 */
import { workerData } from 'node:worker_threads';
import { runEventLoop } from './ffi.js';

const stopFlag = new Int32Array(workerData as SharedArrayBuffer);
runEventLoop(() => Atomics.load(stopFlag, 0) !== 0);
