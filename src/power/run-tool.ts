import { spawn } from 'node:child_process';

/** What a finished tool run returned. */
export interface ToolResult {
  /** Exit code; null when killed (timeout or abort). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface ToolOptions {
  readonly timeoutMs: number;
  /** Extra environment (e.g. IPMI_PASSWORD): passed to the child only, never in argv. */
  readonly env?: Record<string, string>;
  readonly signal?: AbortSignal;
}

/** Most a tool may print before the rest is dropped: a BMC tool answers in a few lines. */
const MAX_OUTPUT_CHARS = 64 * 1024;

/**
 * Runs a program without a shell and resolves with its output; the child's process group is killed
 * (SIGKILL) at the deadline or on abort. Rejects only when the program cannot be started.
 */
export function runTool(file: string, args: readonly string[], opts: ToolOptions): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    // Own process group: at the deadline the whole group dies, also grandchildren that would hold the pipes open.
    const child = spawn(file, [...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env, LC_ALL: 'C' },
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const kill = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(0, MAX_OUTPUT_CHARS)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(0, MAX_OUTPUT_CHARS)));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** The last non-empty line of a tool's error output, for a one-line error message. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}
