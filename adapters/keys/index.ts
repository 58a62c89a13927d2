/** Card keys: the contract, software keys from a key file, and the demo key set. */
export * from './card-keys.ts';
export * from './aes-cmac.ts';
export * from './software-card-keys.ts';
export * from './demo-card-keys.ts';
