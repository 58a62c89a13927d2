/**
 * Central as a separate process, as a cinema chain runs it: the demo and the browser tests start
 * `central/main.ts` (the host never imports central's server code) on a SQLite file in a data folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const centralMain = fileURLToPath(new URL('../../central/main.ts', import.meta.url));

export interface CentralProcess {
  /** e.g. http://127.0.0.1:8480/v1 */
  readonly apiUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A free loopback port (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function centralEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  mkdirSync(dataDir, { recursive: true });
  // A per-installation token secret, made on first start and kept out of the repository.
  const secretFile = join(dataDir, 'demo-jwt-secret');
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  return {
    ...process.env,
    CINECARD_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    CINECARD_JWT_SECRET: readFileSync(secretFile, 'utf8').trim(),
    CINECARD_LOG_LEVEL: process.env['CINECARD_LOG_LEVEL'] ?? 'warn',
  };
}

/** Creates the HQ admin once (a marker file remembers it). */
export function ensureAdmin(dataDir: string, admin: { username: string; password: string }): void {
  const marker = join(dataDir, 'demo-admin-created');
  if (existsSync(marker)) return;
  const made = spawnSync(process.execPath, ['--import', 'tsx', centralMain, 'create-admin', '-u', admin.username, '-n', 'Demo HQ admin'], {
    env: { ...centralEnv(dataDir, 0), CINECARD_ADMIN_PASSWORD: admin.password },
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`could not create the demo admin: ${made.stderr || made.stdout}`);
  writeFileSync(marker, new Date().toISOString());
}

export async function startCentralProcess(options: { dataDir: string; port?: number; inheritOutput?: boolean }): Promise<CentralProcess> {
  const port = options.port || (await freePort());
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', centralMain, 'serve'], {
    env: centralEnv(options.dataDir, port),
    stdio: ['ignore', options.inheritOutput ? 'inherit' : 'ignore', options.inheritOutput ? 'inherit' : 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const apiUrl = `http://127.0.0.1:${port}/v1`;
  const until = Date.now() + 30_000;
  for (;;) {
    const early = await Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 150))]);
    if (early !== 'running') throw new Error(`the central service exited (code ${early}): ${stderr}`);
    try {
      if ((await fetch(`${apiUrl}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`the central service did not answer at ${apiUrl} within 30 s: ${stderr}`);
    }
  }
  return {
    apiUrl,
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
