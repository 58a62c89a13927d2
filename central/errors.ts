/**
 * The one error model of the central service. Every failure a client can see is a `CentralError`
 * made from a catalogue message; `central/http/error-handler.ts` is the only place that turns an
 * error into an HTTP status.
 */

/** The closed set of failure kinds. Adding one means adding its HTTP status in the error handler. */
export const errorTypes = [
  'invalid_data',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'internal',
] as const;
export type ErrorType = (typeof errorTypes)[number];

/** A catalogue entry: the error's type and its message templates (`{name}` is replaced by a param). */
export interface MessageTemplate {
  readonly type: ErrorType;
  readonly en: string;
  readonly 'zh-CN': string;
}

/** A catalogue entry with its stable code (the key it was defined under). */
export interface Message extends MessageTemplate {
  readonly code: string;
}

export type MessageParams = Readonly<Record<string, string | number>>;

/**
 * Defines a module's message catalogue. The keys become the stable error codes clients see, so
 * they are snake_case and never renamed.
 */
export function defineMessages<const K extends string>(
  templates: Record<K, MessageTemplate>,
): Record<K, Message> {
  const out = {} as Record<K, Message>;
  for (const code of Object.keys(templates) as K[]) {
    out[code] = { code, ...templates[code] };
    catalogue.push(out[code]);
  }
  return out;
}

const catalogue: Message[] = [];

/** Every message defined so far (the catalogue test checks them all). */
export function definedMessages(): readonly Message[] {
  return catalogue;
}

export type Locale = 'en' | 'zh-CN';

/** Fills a template's `{name}` placeholders; an unknown placeholder is left as it is. */
export function formatMessage(message: Message, params: MessageParams, locale: Locale = 'en'): string {
  return message[locale].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** One input field that failed validation. */
export interface FieldProblem {
  /** Where the field is: `body.roles.0`, `params.cinemaId`, `query.limit`. */
  readonly path: string;
  readonly message: string;
}

export class CentralError extends Error {
  readonly type: ErrorType;
  readonly code: string;

  constructor(
    readonly template: Message,
    readonly params: MessageParams = {},
    readonly fields?: readonly FieldProblem[],
    options?: { cause?: unknown },
  ) {
    super(formatMessage(template, params), options);
    this.name = 'CentralError';
    this.type = template.type;
    this.code = template.code;
  }

  /** The message in the caller's language. */
  localized(locale: Locale): string {
    return formatMessage(this.template, this.params, locale);
  }
}
