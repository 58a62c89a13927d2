/**
 * What the demo till sells: today's showtimes with their ticket types, and the concession stand.
 * Names come in both languages; the sale lines carry the cinema's own (Chinese) film title, which is
 * what the cinema's redemption rules match on.
 */
export interface Localized {
  readonly 'zh-CN': string;
  readonly en: string;
}

export interface Film {
  readonly id: string;
  /** The title as the cinema's systems and rules know it. */
  readonly title: string;
  readonly name: Localized;
  readonly minutes: number;
}

export interface TicketType {
  readonly id: string;
  readonly name: Localized;
  /** Price difference to the showtime's base price, in fen. */
  readonly deltaFen: number;
}

export interface Showtime {
  readonly id: string;
  readonly filmId: string;
  readonly hall: Localized;
  readonly format: string;
  /** ISO 8601 with the cinema's offset (+08:00). */
  readonly startsAt: string;
  readonly basePriceFen: number;
}

export interface ConcessionItem {
  readonly sku: string;
  readonly name: Localized;
  readonly priceFen: number;
}

export interface Catalogue {
  readonly films: readonly Film[];
  readonly ticketTypes: readonly TicketType[];
  readonly showtimes: readonly Showtime[];
  readonly concessions: readonly ConcessionItem[];
}

export const FILMS: readonly Film[] = [
  { id: 'f1', title: '流浪地球3', name: { 'zh-CN': '流浪地球3', en: 'The Wandering Earth 3' }, minutes: 168 },
  { id: 'f2', title: '长安三万里', name: { 'zh-CN': '长安三万里', en: 'Chang An' }, minutes: 168 },
  { id: 'f3', title: '熊猫计划', name: { 'zh-CN': '熊猫计划', en: 'Panda Plan' }, minutes: 99 },
];

export const TICKET_TYPES: readonly TicketType[] = [
  { id: 'adult', name: { 'zh-CN': '成人票', en: 'Adult' }, deltaFen: 0 },
  { id: 'student', name: { 'zh-CN': '学生票', en: 'Student' }, deltaFen: -1000 },
  { id: 'child', name: { 'zh-CN': '儿童票', en: 'Child' }, deltaFen: -1500 },
];

export const CONCESSIONS: readonly ConcessionItem[] = [
  { sku: 'POP-L', name: { 'zh-CN': '大桶爆米花', en: 'Large popcorn' }, priceFen: 3200 },
  { sku: 'POP-M', name: { 'zh-CN': '中桶爆米花', en: 'Medium popcorn' }, priceFen: 2500 },
  { sku: 'COLA', name: { 'zh-CN': '可乐（中杯）', en: 'Cola (medium)' }, priceFen: 1200 },
  { sku: 'COMBO', name: { 'zh-CN': '双人套餐', en: 'Combo for two' }, priceFen: 5800 },
  { sku: 'WATER', name: { 'zh-CN': '矿泉水', en: 'Mineral water' }, priceFen: 500 },
];

const SLOTS: readonly { filmId: string; hall: Localized; format: string; time: string; basePriceFen: number }[] = [
  { filmId: 'f1', hall: { 'zh-CN': '1号厅', en: 'Hall 1' }, format: '2D', time: '10:30', basePriceFen: 4500 },
  { filmId: 'f1', hall: { 'zh-CN': 'IMAX厅', en: 'IMAX hall' }, format: 'IMAX', time: '14:00', basePriceFen: 8000 },
  { filmId: 'f2', hall: { 'zh-CN': '2号厅', en: 'Hall 2' }, format: '2D', time: '15:20', basePriceFen: 4000 },
  { filmId: 'f3', hall: { 'zh-CN': '3号厅', en: 'Hall 3' }, format: '3D', time: '16:45', basePriceFen: 5500 },
  { filmId: 'f1', hall: { 'zh-CN': '1号厅', en: 'Hall 1' }, format: '2D', time: '19:30', basePriceFen: 5000 },
  { filmId: 'f2', hall: { 'zh-CN': '2号厅', en: 'Hall 2' }, format: '2D', time: '22:40', basePriceFen: 3500 },
];

/** The cinema's local date (YYYY-MM-DD) at `nowMs`, in China Standard Time (no DST). */
export function cinemaDate(nowMs: number): string {
  return new Date(nowMs + 8 * 3_600_000).toISOString().slice(0, 10);
}

/** Today's programme at the cinema. */
export function catalogueFor(nowMs: number): Catalogue {
  const day = cinemaDate(nowMs);
  return {
    films: FILMS,
    ticketTypes: TICKET_TYPES,
    concessions: CONCESSIONS,
    showtimes: SLOTS.map((s, i) => ({
      id: `s${i + 1}`,
      filmId: s.filmId,
      hall: s.hall,
      format: s.format,
      startsAt: `${day}T${s.time}:00+08:00`,
      basePriceFen: s.basePriceFen,
    })),
  };
}
