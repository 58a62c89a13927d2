/**
 * The documentation against the code it describes: the configuration references list exactly the
 * keys of the zod schemas with the defaults the code has, the environment variables central reads,
 * the rendered API reference carries every operation and loads nothing from outside, and the reader
 * check reads cards as the till does.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { InProcessCardReader } from '../adapters/emulator/in-process-reader.ts';
import { MifareClassic1k } from '../adapters/emulator/mifare-classic.ts';
import { demoCardKeys } from '../adapters/keys/demo-card-keys.ts';
import { CentralConfigSchema, loadConfig } from '../central/config.ts';
import { MifareClassicProfile } from '../plugin/card/mifare-classic-profile.ts';
import { PluginConfig } from '../plugin/config.ts';
import { buildApiDocs, neutraliseRemoteLoads, remoteLoads, SPEC_FILE } from './api-docs.ts';
import { checkReader } from './tools/check-reader.ts';

const doc = (path: string) => readFile(new URL(`../${path}`, import.meta.url), 'utf8');

/** Dotted paths of a zod object schema's leaves (nested objects are walked, the rest is a leaf), with their defaults. */
function leafKeys(schema: z.ZodType, prefix = ''): { key: string; defaults: unknown[] }[] {
  type Def = { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType>; defaultValue?: unknown };
  const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;
  let def = defOf(schema);
  const defaults: unknown[] = [];
  while (def.innerType && ['optional', 'default', 'prefault', 'nullable'].includes(def.type)) {
    if (def.type === 'default') defaults.push(def.defaultValue);
    def = defOf(def.innerType);
  }
  if (def.type !== 'object' || !def.shape) return [{ key: prefix, defaults }];
  return Object.entries(def.shape).flatMap(([key, inner]) => leafKeys(inner, prefix ? `${prefix}.${key}` : key));
}

/** The rows of the table between `<!-- config-reference:<name> -->` and `<!-- /config-reference -->`: key → cells. */
function referenceTable(markdown: string, name: string): Map<string, string[]> {
  const start = markdown.indexOf(`<!-- config-reference:${name} -->`);
  const end = markdown.indexOf('<!-- /config-reference -->', start);
  assert.ok(start >= 0 && end > start, `the ${name} configuration reference is marked in the document`);
  const rows = new Map<string, string[]>();
  for (const line of markdown.slice(start, end).split('\n')) {
    const m = /^\|\s*`([A-Za-z0-9_.]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (m) rows.set(m[1]!, m[2]!.split('|').map((c) => c.trim()));
  }
  return rows;
}

function valueAt(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

/** A default as the tables write it: `` `60000` ``, `` `host_operator` ``, `` `true` ``. */
const written = (v: unknown) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

function checkReference(rows: Map<string, string[]>, schema: z.ZodType, defaultColumn: number): void {
  const leaves = leafKeys(schema);
  assert.deepEqual([...rows.keys()].sort(), leaves.map((l) => l.key).sort(), 'the table lists exactly the schema keys');
  for (const { key, defaults } of leaves) {
    if (defaults.length === 0) continue;
    const value = defaults[0];
    const cell = rows.get(key)![defaultColumn]!;
    assert.ok(cell.includes(written(value)), `${key}: the default column says ${written(value)} (it says "${cell}")`);
  }
}

describe('docs', () => {
  describe('configuration references', () => {
    it('docs/integration-guide.md lists every plugin configuration key with the code default', async () => {
      checkReference(referenceTable(await doc('docs/integration-guide.md'), 'plugin'), PluginConfig, 0);
    });

    it('spec/operations.md lists every central configuration key with the code default', async () => {
      checkReference(referenceTable(await doc('spec/operations.md'), 'central'), CentralConfigSchema, 0);
    });

    it('the environment variables spec/operations.md names are the ones central reads, each setting its key', async () => {
      const rows = referenceTable(await doc('spec/operations.md'), 'central');
      const documented = new Map<string, string>();
      for (const [key, cells] of rows) for (const env of cells[1]!.matchAll(/`([A-Z_]+)`/g)) documented.set(env[1]!, key);
      const source = await doc('central/config.ts');
      const block = /const environment[^{]*\{([^}]*)\}/.exec(source)?.[1] ?? '';
      const read = [...new Set([...block.matchAll(/([A-Z_]+):/g), ...source.matchAll(/env\['([A-Z_]+)'\]/g)].map((m) => m[1]!))];
      assert.deepEqual([...documented.keys()].sort(), read.sort());
      const samples: Record<string, string> = { 'metrics.token': 'm'.repeat(24), dataDir: '/srv/x', databaseUrl: 'postgres://u@h/db', host: '0.0.0.0', port: '9000', jwtSecret: 'e'.repeat(40), accessTokenTtlSeconds: '600', logLevel: 'debug' };
      for (const [env, key] of documented) {
        const env_ = { CINECARD_JWT_SECRET: 'j'.repeat(32), [env]: samples[key] ?? 'x' };
        assert.equal(String(valueAt(loadConfig(undefined, env_), key)), samples[key], `${env} sets ${key}`);
      }
    });
  });

  describe('links', () => {
    /** GitHub's heading anchors: lower case, punctuation dropped (letters, digits, spaces, hyphens, underscores kept), spaces → hyphens. */
    const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const anchors = (markdown: string) => new Set([...markdown.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));

    for (const file of ['docs/integration-guide.md', 'docs/security-model.md', 'spec/operations.md', 'README.md']) {
      it(`every relative link in ${file} reaches a file, and a heading when it names one`, async () => {
        const base = new URL(`../${file}`, import.meta.url);
        const text = (await readFile(base, 'utf8')).replace(/```[\s\S]*?```/g, '');
        const broken: string[] = [];
        for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
          if (/^[a-z]+:/i.test(target!)) continue;
          const [path, anchor] = target!.split('#') as [string, string | undefined];
          const url = path ? new URL(path, base) : base;
          let content: string;
          try {
            content = path.endsWith('/') ? '' : await readFile(url, 'utf8');
            if (path.endsWith('/')) await readdir(url);
          } catch {
            broken.push(`${target}: no such file`);
            continue;
          }
          if (anchor && url.pathname.endsWith('.md') && !anchors(content).has(anchor)) broken.push(`${target}: no such heading`);
        }
        assert.deepEqual(broken, []);
      });
    }
  });

  describe('API reference (npm run docs:api)', function () {
    this.timeout(120_000);
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cinecard-apidocs-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('renders spec/openapi.yaml with every operation, and the page loads nothing from outside', async () => {
      const html = await readFile(await buildApiDocs(join(dir, 'index.html')), 'utf8');
      const spec = parseYaml(await readFile(SPEC_FILE, 'utf8')) as { paths: Record<string, Record<string, { operationId?: string }>> };
      const ids = Object.values(spec.paths).flatMap((item) => Object.values(item).map((op) => op?.operationId).filter((id): id is string => typeof id === 'string'));
      assert.ok(ids.length > 40, `the spec has its operations (${ids.length})`);
      const missing = ids.filter((id) => !html.includes(`"operationId":"${id}"`));
      assert.deepEqual(missing, [], 'every operationId is in the page');
      assert.match(html, /<title>CineCard central API<\/title>/);
      assert.deepEqual(remoteLoads(html), [], 'no external script, stylesheet, image, font or telemetry address');
      assert.doesNotMatch(html, /<script[^>]+src=/i, 'every script is inline');
      assert.match(html, /"disableTelemetry":true/, 'Redoc telemetry is off');
    });

    it('the check finds what an un-neutralised Redoc page would load', () => {
      const page = '<script src="https://cdn.redocly.com/redoc/v2.1.5/bundles/redoc.standalone.js"></script><img src="https://cdn.redoc.ly/redoc/logo-mini.svg">' +
        '<script>const otel = `https://otel.cloud.redocly.com/v1/traces`;</script><link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">';
      assert.equal(remoteLoads(page).length, 7);
      const fixed = neutraliseRemoteLoads(page);
      assert.deepEqual(remoteLoads(fixed), ['script data:,']);
      assert.doesNotMatch(fixed, /redoc\.ly|redocly\.com|googleapis/);
    });
  });

  describe('reader check (docs/tools/check-reader.ts)', () => {
    it('lists the reader and says what the till makes of a made card and a blank one, and when no card comes', async () => {
      const keys = demoCardKeys();
      const made = new MifareClassic1k();
      const setup = new InProcessCardReader({ name: 'setup' });
      await setup.start();
      const s = setup.insert(made);
      await new MifareClassicProfile(keys).personalise(
        s,
        { cardType: 3, blocked: false, cardNumber: 88001234n, issuedAt: 1_750_000_000, originalExpiry: 1_790_000_000, initialUses: 10, chainId: 12, issuingCinema: 301 },
        { remainingUses: 10, lifetimeUsesLoaded: 10, expiry: 1_790_000_000, status: 'made', lastTxTime: 1_750_000_000, lastCinema: 301, lastTerminal: 1, lastAmount: -10, lastTxKind: 'issue' },
      );
      setup.dispose();

      const reader = new InProcessCardReader();
      const lines: string[] = [];
      const cards = [made, new MifareClassic1k()];
      const result = checkReader(reader, keys, { taps: 3, waitMs: 2000, print: (l) => {
        lines.push(l);
        if (l.startsWith('tap card')) setImmediate(() => (cards.length ? reader.insert(cards.shift()!) : reader.remove()));
      } });
      const { readers, outcomes } = await result;
      reader.dispose();
      assert.deepEqual(readers, ['CineCard Emulated Reader 0']);
      assert.deepEqual(outcomes, ['ok', 'blank']);
      const text = lines.join('\n');
      assert.match(text, /CineCard card 88001234 \(type 3, chain 12, key version 2\): made, 10 uses left, seq 1/);
      assert.match(text, /blank MIFARE Classic card/);
      assert.match(text, /no card was tapped/);
      assert.match(text, /DEMO keys/);
    });

    it('says so when there is no reader', async () => {
      const reader = new InProcessCardReader();
      reader.dispose(); // a disposed reader lists none
      const lines: string[] = [];
      const { readers } = await checkReader(reader, demoCardKeys(), { taps: 1, waitMs: 300, print: (l) => lines.push(l) });
      assert.deepEqual(readers, []);
      assert.match(lines.join('\n'), /no reader: see the reader set-up/);
    });
  });
});
