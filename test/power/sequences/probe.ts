import { BackendError } from '../../../src/errors.js';
import type { HostProbe } from '../../../src/inventory/types.js';
import type { Resources } from '../../../src/model/resources.js';

/**
 * In-test HostProbe (no libvirtd runs in these tests; the libvirt helper's probe is tested against
 * libvirt). Domains are what the test sets; capacity answers only while `isUp(host)` says the host
 * is powered (the ipmi_sim power file), so a host that never comes on never reports capacity.
 */
export function testProbe(opts: {
  domains?: Record<string, number>;
  unreachable?: Set<string>;
  isUp: (host: string) => boolean;
  capacity?: Resources;
}): HostProbe & { domainLooks: string[] } {
  const domainLooks: string[] = [];
  return {
    domainLooks,
    async domainCount(host) {
      domainLooks.push(host);
      if (opts.unreachable?.has(host)) throw new BackendError(`host ${host}: libvirt unreachable`);
      return opts.domains?.[host] ?? 0;
    },
    async capacity(host) {
      if (!opts.isUp(host)) throw new BackendError(`host ${host}: libvirt unreachable`);
      return opts.capacity ?? { cpu: 32, memMiB: 262144, diskGiB: 2000 };
    },
  };
}
