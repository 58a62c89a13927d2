/**
 * `central serve` as a child process, for tests and benches that must kill it or keep it off their
 * own event loop. Spawned as node itself (not the tsx wrapper), so a SIGKILL reaches the service
 * and nothing is orphaned.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const centralMain = fileURLToPath(new URL('../central/main.ts', import.meta.url));

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `central serve --no-migrate` on 127.0.0.1:`port` with `env` over this process's
 * environment, and resolves once `/v1/health` answers.
 */
export async function spawnCentral(port: number, env: Record<string, string>, options: { nodeArgs?: readonly string[]; timeoutMs?: number } = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', centralMain, 'serve', '--no-migrate'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), CINECARD_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`central exited with ${child.exitCode} before it was up`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v1/health`)).ok) return child;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('central did not start in time');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
