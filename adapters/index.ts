/** Adapters: the contracts the plugin needs from its host and devices, and stock implementations. */
export * from './lifecycle.ts';
export * from './card-reader.ts';
export * from './serial-queue.ts';
export * from './emulator/mifare-classic.ts';
export * from './emulator/in-process-reader.ts';
export * from './host-ui.ts';
export * from './host-session.ts';
export * from './host-sale.ts';
export * from './clock.ts';
export * from './logger.ts';
export * from './keys/index.ts';
export * from './pcsc/pcsc-card-reader.ts';
export * from './card-reader-events.ts';
