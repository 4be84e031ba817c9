/** Shared by the libvirt contract tests: fixture URIs and a peer that does not speak libvirt. */
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const hostUri = (file: string): string => `test://${path.join(fixtures, file)}`;

/** A TCP peer on loopback that answers every connection with bytes that are not libvirt's protocol. */
export async function garbagePeer(): Promise<{ uri: string; close: () => Promise<void> }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    // Clients hang up on it mid-answer (libvirt on garbage, the reachability pre-flight right after
    // connecting): the resulting ECONNRESET is expected, not an error of the test.
    s.on('error', () => undefined);
    s.end(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'.repeat(8)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    uri: `qemu+tcp://127.0.0.1:${port}/system`,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
