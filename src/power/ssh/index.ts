export { SshDriver, SshTrustError, type SshExecResult } from './ssh.js';
export { sshSchema, type SshConfig } from './schema.js';
export { knownHostsName, parseKnownHosts } from './known-hosts.js';
