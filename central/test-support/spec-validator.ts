/**
 * Checks HTTP responses against `spec/openapi.yaml` with ajv (JSON Schema 2020-12, the dialect of
 * OpenAPI 3.1). The test client runs every response through it, so every API test is also a
 * contract test of what it received.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

export const specPath = new URL('../../spec/openapi.yaml', import.meta.url);
const specId = 'https://cinecard.invalid/openapi.json';

export interface SpecOperation {
  readonly operationId: string;
  readonly method: string;
  /** The spec's path template, e.g. `/v1/cinemas/{cinemaId}`. */
  readonly path: string;
  readonly permission: string | undefined;
  readonly definition: Record<string, any>;
  readonly pathParameters: readonly Record<string, any>[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, any>>;
  components: Record<string, Record<string, any>>;
}

export function loadSpec(): OpenApiDocument {
  return parse(readFileSync(specPath, 'utf8')) as OpenApiDocument;
}

const methods = ['get', 'put', 'post', 'delete', 'patch'];

export function specOperations(spec: OpenApiDocument = loadSpec()): SpecOperation[] {
  const out: SpecOperation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of methods) {
      const op = item[method];
      if (!op) continue;
      out.push({
        operationId: op.operationId,
        method,
        path,
        permission: op['x-permission'],
        definition: op,
        pathParameters: [...(item['parameters'] ?? []), ...(op.parameters ?? [])],
      });
    }
  }
  return out;
}

/** Follows a local `$ref` (`#/components/...`). */
export function resolveRef<T = Record<string, any>>(spec: OpenApiDocument, node: any): T {
  let current = node;
  while (current && typeof current === 'object' && typeof current.$ref === 'string') {
    const pointer = (current.$ref as string).replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    current = pointer.reduce((n: any, key) => n?.[key], spec);
  }
  return current as T;
}

const pointerEscape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

export class SpecValidator {
  readonly spec = loadSpec();
  readonly operations = specOperations(this.spec);
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly matchers = this.operations.map((op) => ({
    op,
    regex: new RegExp(`^${op.path.replace(/\{\w+\}/g, '[^/]*')}$`),
  }));
  /** How many responses were checked (reported by the contract test). */
  checked = 0;

  constructor() {
    (addFormatsModule as unknown as (ajv: Ajv2020) => void)(this.ajv);
    this.ajv.addSchema(this.spec, specId);
  }

  operationFor(method: string, pathname: string): SpecOperation | undefined {
    return this.matchers.find((m) => m.op.method === method.toLowerCase() && m.regex.test(pathname))?.op;
  }

  /** Problems with a response (empty when it matches the spec). */
  check(method: string, pathname: string, status: number, contentType: string | null, body: string): string[] {
    const op = this.operationFor(method, pathname);
    // A path the spec does not have must be answered by the error model (route_not_found).
    const responses: Record<string, any> = op?.definition['responses'] ?? { '404': { $ref: '#/components/responses/Error' } };
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in responses);
    const where = `${method} ${pathname} → ${status}`;
    if (!key) return [`${where}: the spec lists no response ${status} for ${op?.operationId ?? 'this path'}`];
    const response = resolveRef(this.spec, responses[key]);
    const schemaPointer = op
      ? `#/paths/${pointerEscape(op.path)}/${op.method}/responses/${key}`
      : '#/components/responses/Error';
    if (!response['content']) return body.length === 0 ? [] : [`${where}: the spec says no body, got ${body.slice(0, 200)}`];
    // A file (a report export) of a type the spec lists: its bytes have no JSON schema to check.
    const media = contentType?.split(';')[0]?.trim();
    if (media && media !== 'application/json' && media in response['content']) return [];
    if (!contentType?.startsWith('application/json')) return [`${where}: content-type ${contentType}, not JSON`];
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return [`${where}: body is not JSON: ${body.slice(0, 200)}`];
    }
    const refBase = op && !('$ref' in responses[key]) ? `${schemaPointer}/content/application~1json/schema` : `${(responses[key] as any).$ref ?? schemaPointer}/content/application~1json/schema`;
    let validate = this.compiled.get(refBase);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${specId}${refBase}` });
      this.compiled.set(refBase, validate);
    }
    this.checked++;
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${where}: ${e.instancePath || '(body)'} ${e.message} ${JSON.stringify(e.params)}`);
  }

  /** A fetch that checks every response against the spec and throws on a mismatch. */
  fetch(inner: typeof fetch = fetch): (request: Request) => Promise<Response> {
    return async (request: Request) => {
      const response = await inner(request);
      const body = await response.clone().text();
      const problems = this.check(request.method, new URL(request.url).pathname, response.status, response.headers.get('content-type'), body);
      if (problems.length > 0) throw new Error(`Response does not match spec/openapi.yaml:\n  ${problems.join('\n  ')}`);
      return response;
    };
  }
}

/** One validator per test process (compiling schemas once). */
export const specValidator = new SpecValidator();
