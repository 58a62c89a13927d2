/**
 * A TCP pass-through on loopback that a test can cut and heal: a network partition between a till
 * and central without touching either. `cut()` drops every open connection and refuses new ones
 * (the client sees ECONNREFUSED / a reset, as on a dead link); `heal()` lets them through again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpGate {
  private open = true;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Forwards 127.0.0.1:<port> to 127.0.0.1:<targetPort>. */
  static async start(targetPort: number): Promise<TcpGate> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (typeof address !== 'object' || !address) throw new Error('the gate has no port');
    const gate = new TcpGate(server, address.port);
    server.on('connection', (client) => gate.pass(client, targetPort));
    return gate;
  }

  /** `http://127.0.0.1:<port>` */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  heal(): void {
    this.open = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pass(client: Socket, targetPort: number): void {
    if (!this.open) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        this.sockets.delete(s);
        (s === client ? upstream : client).destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
