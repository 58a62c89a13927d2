/**
 * Transport security (DESIGN §8 "TLS is supported"): the HTTPS options from `tls.certFile` /
 * `tls.keyFile`, and the "TLS required" guard. With a certificate the server speaks nothing but TLS,
 * so the guard has nothing to do; behind a TLS-terminating proxy (`trustProxy`, no certificate) it
 * refuses every request — JSON operations and WebSocket upgrades alike — that the trusted proxy does
 * not mark `X-Forwarded-Proto: https`.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyInstance } from 'fastify';
import { ConfigError, type CentralConfig } from '../config.ts';
import { CentralError, defineMessages } from '../errors.ts';
import { httpStatusOf } from './error-handler.ts';

export const transportMessages = defineMessages({
  https_required: {
    type: 'forbidden',
    en: 'This service accepts requests only over HTTPS; use an https:// (or wss://) address.',
    'zh-CN': '本服务只接受 HTTPS 请求，请使用 https://（或 wss://）地址。',
  },
});

/** Whether the immediate peer at `address` is a proxy whose X-Forwarded-* headers are believed. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/** The same rule fastify applies to `trustProxy` (true, or a comma-separated list of addresses/CIDRs). */
export function proxyTrust(trustProxy: CentralConfig['trustProxy']): ProxyTrust {
  if (trustProxy === true) return () => true;
  if (trustProxy === false) return () => false;
  return proxyAddr.compile(trustProxy.split(',').map((s) => s.trim()));
}

/** HTTPS options for fastify, or undefined for plain HTTP. An unreadable file is a configuration error. */
export function httpsOptions(config: CentralConfig): { cert: Buffer; key: Buffer } | undefined {
  const tls = config.tls;
  if (!tls?.certFile || !tls.keyFile) return undefined;
  const read = (setting: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(`Cannot read ${setting} ${file}: ${(error as Error).message}`);
    }
  };
  return { cert: read('tls.certFile', tls.certFile), key: read('tls.keyFile', tls.keyFile) };
}

/** True when `tls.required` asks for a check per request (no certificate: TLS ends at a proxy). */
function guardNeeded(config: CentralConfig): boolean {
  return Boolean(config.tls?.required && !config.tls.certFile);
}

/** Did this request reach the service over TLS (its own, or a trusted proxy's)? */
export function arrivedOverTls(req: IncomingMessage, trust: ProxyTrust): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  const forwarded = req.headers['x-forwarded-proto'];
  const address = req.socket.remoteAddress;
  if (forwarded === undefined || address === undefined || !trust(address, 0)) return false;
  // A chain of proxies appends; the last value is the one our trusted proxy wrote.
  const value = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded).split(',').pop()?.trim().toLowerCase();
  return value === 'https';
}

/**
 * The "TLS required" guard of JSON operations: a hook refusing plain requests with 403
 * `https_required`. Installed before the routes.
 */
export function guardRequests(app: FastifyInstance, config: CentralConfig): void {
  if (!guardNeeded(config)) return;
  const trust = proxyTrust(config.trustProxy);
  app.addHook('onRequest', async (request) => {
    // A load balancer's health probe talks to the instance directly; health carries no secrets.
    if (request.method === 'GET' && request.url.split('?')[0] === '/v1/health') return;
    if (!arrivedOverTls(request.raw, trust)) throw new CentralError(transportMessages.https_required);
  });
}

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * The same guard for WebSocket upgrades (the sync socket), which bypass fastify: the server's
 * `upgrade` listeners are wrapped so a plain upgrade is answered 403 and never reaches them. Call it
 * after every module is installed, so their listeners exist.
 */
export function guardUpgrades(app: FastifyInstance, config: CentralConfig): void {
  if (!guardNeeded(config)) return;
  const trust = proxyTrust(config.trustProxy);
  const server = app.server;
  const listeners = server.listeners('upgrade') as UpgradeListener[];
  server.removeAllListeners('upgrade');
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (arrivedOverTls(req, trust)) {
      for (const listener of listeners) listener.call(server, req, socket, head);
      return;
    }
    const error = new CentralError(transportMessages.https_required);
    const locale = /^\s*zh\b/i.test(String(req.headers['accept-language'] ?? '')) ? 'zh-CN' : 'en';
    const body = JSON.stringify({ type: error.type, code: error.code, message: error.localized(locale) });
    socket.end(
      `HTTP/1.1 ${httpStatusOf[error.type]} Forbidden\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
