/**
 * Renders `spec/openapi.yaml` to one static HTML page (`docs/api/index.html`) with the installed
 * `@redocly/cli` — `npm run docs:api`. The page must work with no internet at view time:
 *
 * - `--inlineBundle` puts Redoc's script into the page (without it the page loads Redoc from
 *   Redocly's CDN);
 * - `--openapi.disableTelemetry` turns off Redoc 3's usage reports to `otel.cloud.redocly.com`;
 * - the bundle still names a few addresses it would fetch from by itself (the "API docs by Redocly"
 *   logo, an icon CDN, the telemetry collector): {@link neutraliseRemoteLoads} replaces each with an
 *   empty `data:` URL, so nothing is fetched. Links the reader may click (redocly.com, the
 *   spec's own servers) stay links.
 *
 * `docs/api-docs.test.ts` renders the page and checks every operation is in it and that it loads
 * nothing from outside.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SPEC_FILE = resolve(root, 'spec/openapi.yaml');
export const API_DOCS_FILE = resolve(root, 'docs/api/index.html');

/** Hosts the page would load from without a click (scripts, images, fonts, telemetry). */
export const REMOTE_LOAD_HOSTS = [
  'cdn.redoc.ly',
  'cdn.redocly.com',
  'otel.cloud.redocly.com',
  'fonts.googleapis.com',
  'fonts.gstatic.com',
  'unpkg.com',
  'cdn.jsdelivr.net',
] as const;

/** Replaces every `https://<host>/…` of {@link REMOTE_LOAD_HOSTS} by an empty data URL. */
export function neutraliseRemoteLoads(html: string): string {
  const hosts = REMOTE_LOAD_HOSTS.map((h) => h.replace(/\./g, '\\.')).join('|');
  return html.replace(new RegExp(`https?://(?:${hosts})(?:/[^\\s"'\`)<>]*)?`, 'g'), 'data:,');
}

/** What in `html` would be fetched from another origin when the page is opened (empty: nothing). */
export function remoteLoads(html: string): string[] {
  const found: string[] = [];
  for (const m of html.matchAll(/<script\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)/gi)) found.push(`script ${m[1]}`);
  for (const m of html.matchAll(/<link\b[^>]*\bhref\s*=\s*["']?(https?:|\/\/)([^"'\s>]*)/gi)) found.push(`link ${m[1]}${m[2]}`);
  for (const m of html.matchAll(/<(?:img|iframe|source|embed)\b[^>]*\bsrc\s*=\s*["']?(https?:|\/\/)([^"'\s>]*)/gi)) found.push(`embed ${m[1]}${m[2]}`);
  for (const m of html.matchAll(/(?:@import\s+|url\(\s*["']?)(https?:|\/\/)([^"')\s]*)/gi)) found.push(`css ${m[1]}${m[2]}`);
  for (const host of REMOTE_LOAD_HOSTS) if (html.includes(host)) found.push(`host ${host}`);
  return found;
}

/** Renders the spec to `output` (default `docs/api/index.html`); resolves with the file written. */
export async function buildApiDocs(output = API_DOCS_FILE, spec = SPEC_FILE): Promise<string> {
  await mkdir(dirname(output), { recursive: true });
  const cli = resolve(root, 'node_modules/@redocly/cli/bin/cli.js');
  await promisify(execFile)(
    process.execPath,
    [cli, 'build-docs', spec, '--output', output, '--inlineBundle', '--title', 'CineCard central API', '--openapi.disableTelemetry=true'],
    { cwd: root, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }, maxBuffer: 16 * 1024 * 1024 },
  );
  const html = neutraliseRemoteLoads(await readFile(output, 'utf8'));
  const left = remoteLoads(html);
  if (left.length > 0) throw new Error(`the rendered API reference would still load from outside: ${left.join(', ')}`);
  await writeFile(output, html);
  return output;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ? resolve(process.argv[2]) : API_DOCS_FILE;
  buildApiDocs(out).then(
    (file) => console.log(`API reference written to ${file} (open it in a browser; it loads nothing from the internet).`),
    (error: unknown) => {
      console.error(`Could not render the API reference: ${(error as Error).message}`);
      process.exitCode = 1;
    },
  );
}
