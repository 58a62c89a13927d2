/** Messages in the language of the session at the till: the configured locale, else the host's. */
import { inject, injectable } from 'tsyringe';
import { HostSession, type Locale } from '../../adapters/host-session.ts';
import type { PluginConfig } from '../config.ts';
import { PluginConfigToken } from '../tokens.ts';
import { translate, type MessageKey, type MessageParams } from './catalogue.ts';

@injectable()
export class Translator {
  constructor(
    @inject(HostSession) private readonly session: Pick<HostSession, 'locale'>,
    @inject(PluginConfigToken) private readonly config: Pick<PluginConfig, 'locale'>,
  ) {}

  get locale(): Locale {
    return this.config.locale ?? this.session.locale;
  }

  t(key: MessageKey, params?: MessageParams): string {
    return translate(this.locale, key, params);
  }
}
