/** The plugin's configuration, validated with zod when `activate` is called. */
import { z } from 'zod';

export const PluginConfig = z.object({
  /** The terminal database file (`:memory:` only for throwaway tests). */
  dbFile: z.string().min(1),
  /** Who this terminal is: ids from enrolment, and the codes written on cards. */
  terminal: z.object({
    terminalId: z.string().min(1),
    cinemaId: z.string().min(1),
    /** The cinema's code within the chain (u16), written on cards as the last cinema. */
    cinemaCode: z.number().int().min(0).max(0xffff),
    /** The terminal's number within the cinema (u16), written on cards. */
    terminalNumber: z.number().int().min(0).max(0xffff),
    /** The chain (u16): cards of another chain are refused as not ours. */
    chainId: z.number().int().min(0).max(0xffff),
  }),
  /**
   * `host_operator`: the host's logged-in operator is mapped onto a local user (users.host_operator_id);
   * `plugin_login`: users log in to CineCard with their own name and password.
   */
  userMode: z.enum(['host_operator', 'plugin_login']).default('host_operator'),
  /** Forces the language; by default the host session's (which hosts default to zh-CN). */
  locale: z.enum(['zh-CN', 'en']).optional(),
  /** The cinema's time zone, for dates shown and expiry days. */
  timeZone: z.string().min(1).default('Asia/Shanghai'),
  /** The most uses one redemption may take. */
  maxUsesPerRedemption: z.number().int().min(1).max(1000).default(20),
  /**
   * Central (`spec/sync.md`): without it the terminal works alone and its ops wait in the outbox.
   * `urls`: central's origins (`https://central.example.com`; the API is under `/v1`), several for several instances;
   * `terminalSecret`: the credential this terminal got at enrolment (keep it out of logs and repos).
   */
  central: z
    .object({
      urls: z.array(z.string().url()).min(1),
      terminalSecret: z.string().min(16),
      /** Pull the change log this often even without a poke. */
      pullIntervalMs: z.number().int().min(1000).max(3_600_000).default(60_000),
      /** Listen on central's WebSocket for pokes (a blacklist reaches the till within a second). */
      pokes: z.boolean().default(true),
      /** A PEM file with the CA that signed central's certificate (a chain's own CA): only it is trusted. */
      caFile: z.string().min(1).optional(),
    })
    .strict()
    .optional(),
  /** `terminal` (a cinema till) or `hq_station` (HQ making cards; its screens come with the management screens). */
  mode: z.enum(['terminal', 'hq_station']).default('terminal'),
});
export type PluginConfigInput = z.input<typeof PluginConfig>;
export type PluginConfig = z.output<typeof PluginConfig>;

/** Parses a configuration, throwing one readable error that names every bad field. */
export function parseConfig(input: unknown): PluginConfig {
  const r = PluginConfig.safeParse(input);
  if (!r.success) {
    const where = r.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new TypeError(`invalid CineCard plugin configuration: ${where}`);
  }
  if (!isTimeZone(r.data.timeZone)) throw new TypeError(`invalid CineCard plugin configuration: timeZone: unknown time zone ${r.data.timeZone}`);
  return r.data;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
