/**
 * Certificates for TLS tests, made by the openssl CLI in a scratch directory: a CA (a chain's own),
 * and a server certificate for 127.0.0.1 signed by it.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  readonly cert: string;
  readonly key: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
}

/** A CA named `name` in `dir`: its key and self-signed certificate (files). */
export function makeCa(dir: string, name: string): TestCa {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`);
  return { cert, key };
}

/** A server certificate for 127.0.0.1 in `dir`, signed by `ca` (files). */
export function makeServerCert(dir: string, ca: TestCa): { certFile: string; keyFile: string } {
  const keyFile = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const certFile = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', '/CN=127.0.0.1');
  openssl(dir, 'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', ext);
  return { certFile, keyFile };
}
