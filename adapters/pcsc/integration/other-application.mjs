/**
 * Another PC/SC application, as a process of its own: it connects SHARED to the reader named by
 * its argument, resets the card as it disconnects, prints `reset` and exits. A process, because a
 * pcsc-mini Client's `stop()` can block the thread calling it for good (it waits on the monitor
 * thread's SCardGetStatusChange, which a cancel sent at the wrong moment does not wake), and an
 * orderly exit may stop it too: the process kills itself once it has said what happened.
 */
import { CardDisposition, CardMode, Client } from 'pcsc-mini';

const name = process.argv[2];
const client = new Client();
client.on('error', () => {});
client.on('reader', async (reader) => {
  if (reader.name() !== name) return;
  try {
    const card = await reader.connect(CardMode.SHARED);
    await card.disconnect(CardDisposition.RESET);
    process.stdout.write('reset\n', () => process.kill(process.pid, 'SIGKILL'));
  } catch (e) {
    process.stdout.write(`failed: ${e?.code ?? e}\n`, () => process.kill(process.pid, 'SIGKILL'));
  }
});
client.start();
