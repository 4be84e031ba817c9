/**
 * A TCP reachability check before libvirt opens a remote connection. virConnectOpen has no time limit of
 * its own and cannot be interrupted from another thread: against a powered-off host (the usual case for
 * a standby host) its thread would sit in connect() for minutes and hold up process exit. A plain
 * connect with a timeout, made first from the event loop, turns that into a prompt, typed error.
 */
import net from 'node:net';
import { BINDING_ERR, LibvirtError, VIR_ERR } from './errors.js';

const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  tcp: 16509,
  tls: 16514,
  ssh: 22,
  libssh: 22,
  libssh2: 22,
};

/** Host and port libvirt's client will connect to, or undefined for local transports (unix, ext, no host). */
export function remoteEndpoint(uri: string): { host: string; port: number } | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return undefined;
  const plus = url.protocol.slice(0, -1).split('+')[1];
  // No transport with a host means TLS (libvirt's default for remote URIs).
  const port = DEFAULT_PORTS[plus ?? 'tls'];
  if (port === undefined) return undefined;
  return { host, port: url.port === '' ? port : Number(url.port) };
}

/** Resolves once a TCP connection to the URI's endpoint succeeds; rejects with a LibvirtError otherwise. */
export function checkReachable(uri: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const ep = remoteEndpoint(uri);
  if (ep === undefined) return Promise.resolve();
  const where = `${ep.host}:${ep.port}`;
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: ep.host, port: ep.port, timeout: timeoutMs, ...(signal && { signal }) });
    const fail = (code: number, message: string): void => {
      sock.destroy();
      reject(new LibvirtError({ code, domain: 0, message, fn: 'virConnectOpen' }, uri));
    };
    sock.once('connect', () => {
      sock.destroy();
      resolve();
    });
    sock.once('timeout', () =>
      fail(
        BINDING_ERR.TIMEOUT,
        `unable to connect to server at '${where}': no answer within ${timeoutMs} ms`,
      ),
    );
    sock.on('error', (e) =>
      fail(VIR_ERR.SYSTEM_ERROR, `unable to connect to server at '${where}': ${e.message}`),
    );
  });
}
