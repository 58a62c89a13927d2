/**
 * The child process that holds PcscCardReader's monitoring pcsc-mini Client — the one Client that
 * runs pcsc-mini's SCardGetStatusChange thread, and so the one whose `stop()` can block the thread
 * that calls it (see reader-monitor.ts). Card handles stay in the parent; only reader events cross.
 *
 * Plain JavaScript, so that it starts without a TypeScript loader (~0.2 s rather than ~1 s). The
 * messages are typed in reader-monitor.ts (`ToMonitor`, `FromMonitor`).
 *
 * parent → child: `{ t: 'start', gen }`: start a Client (only when none is running).
 * child → parent, each with the `gen` of the Client it is about:
 *   `up` | `down` (code) — the answer to `start`; then `reader` (name), `change` (name, raw status),
 *   `gone` (name) and `error` (code, live: whether that Client is still running).
 */
import { Client } from 'pcsc-mini';

/** The running Client, if any. */
let client;
/**
 * Clients whose `stop()` threw (NoService after pcscd died). pcsc-mini's finalizer would retry the
 * release when they are collected and throw from there, so they stay referenced while we live.
 */
const unreleasable = [];

const send = (message) => {
  if (process.connected) process.send(message, () => {}); // errors: the parent is gone, see 'disconnect'
};

function stopQuietly(c) {
  c.removeAllListeners();
  c.on('error', () => {}); // an 'error' without a listener would throw
  try {
    c.stop();
  } catch {
    unreleasable.push(c);
  }
}

function start(gen) {
  if (client) return send({ t: 'down', gen, code: 'ClientAlreadyStarted' });
  const c = new Client();
  c.on('reader', (reader) => {
    const name = reader.name();
    send({ t: 'reader', gen, name });
    reader.on('change', (status) => send({ t: 'change', gen, name, raw: status.raw }));
    reader.on('disconnect', () => send({ t: 'gone', gen, name }));
  });
  c.on('error', (e) => {
    // Every monitor error but an event overflow ends pcsc-mini's monitor thread first: stopping the
    // Client cannot wait on its SCardGetStatusChange then. After an overflow it still runs, and only
    // killing this process lets go of it safely.
    const live = e?.code === 'StatusEventBufferOverflow';
    if (!live && client === c) {
      client = undefined;
      stopQuietly(c);
    }
    send({ t: 'error', gen, code: String(e?.code ?? e), live });
  });
  try {
    c.start(); // throws NoService while pcscd is down
  } catch (e) {
    stopQuietly(c);
    return send({ t: 'down', gen, code: String(e?.code ?? e) });
  }
  client = c;
  send({ t: 'up', gen });
}

process.on('message', (m) => {
  if (m?.t === 'start' && Number.isInteger(m.gen)) start(m.gen);
});
// The parent went away: go at once. A graceful exit would stop the running Client, which is what
// may block (pcsc-lite's SCardCancel misses a monitor between two waits); the kernel and pcscd
// clean up after a killed client.
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
