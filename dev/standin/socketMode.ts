// Socket Mode: apps.connections.open hands out one-use WebSocket URLs on the stand-in's own HTTP server; a
// connection gets Slack's `hello`, then envelopes (`socketSend`) that the app must ack with their envelope_id.
// The WebSocket protocol itself (framing, ping/pong, the close handshake) is the `ws` package's.
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { nextEvent } from './events';
import type { SocketAck, SocketEnvelope, SocketSendOptions } from './types';

const SOCKET_PATH = '/socket';
/** How long socketSend waits for the app's ack unless told otherwise (Slack retries after about 3 s). */
const DEFAULT_ACK_TIMEOUT_MS = 3000;

export interface SocketMode {
  readonly envelopes: SocketEnvelope[];
  /** Connections currently open (hello sent). */
  readonly connections: number;
  /** A one-use ticket: the path and query (`/socket?ticket=…&app_id=…`) of a WebSocket URL on this server. */
  openTicket(): string;
  /** Takes over an HTTP upgrade request: a WebSocket for a valid ticket, else 403. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  waitForSocket(timeoutMs: number): Promise<void>;
  /** Pushes an envelope to the newest connection; resolves with its ack. */
  send(type: string, payload: Record<string, unknown>, opts?: SocketSendOptions): Promise<SocketAck>;
  /** Sends `{ type: 'disconnect', reason }` to every open connection. */
  disconnect(reason: string): void;
  /** Drops every connection at once. */
  close(): void;
}

export function createSocketMode(appId: string, emitter: EventEmitter): SocketMode {
  const wss = new WebSocketServer({ noServer: true, clientTracking: false });
  const tickets = new Set<string>();
  /** Open connections, oldest first (envelopes go to the newest, as after a reconnect). */
  const sockets: WebSocket[] = [];
  const envelopes: SocketEnvelope[] = [];
  const pendingAcks = new Map<string, { resolve: (a: SocketAck) => void; envelope: SocketEnvelope }>();
  let envelopeSeq = 0;

  function sendText(ws: WebSocket, text: string): void {
    if (ws.readyState === ws.OPEN) ws.send(text);
  }

  function drop(ws: WebSocket): void {
    const i = sockets.indexOf(ws);
    if (i >= 0) sockets.splice(i, 1);
    ws.terminate();
  }

  function onText(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const ack = msg as SocketAck;
    const pending = typeof ack.envelope_id === 'string' ? pendingAcks.get(ack.envelope_id) : undefined;
    if (pending === undefined) return;
    pendingAcks.delete(ack.envelope_id);
    pending.envelope.ack = ack;
    pending.envelope.ackedAt = Date.now();
    emitter.emit('socket', pending.envelope);
    pending.resolve(ack);
  }

  function onConnection(ws: WebSocket): void {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) onText(data.toString());
    });
    ws.on('close', () => drop(ws));
    ws.on('error', () => drop(ws));
    sockets.push(ws);
    sendText(
      ws,
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.length,
        debug_info: { host: 'applink-standin', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: appId },
      }),
    );
    emitter.emit('socketOpen');
  }

  return {
    envelopes,
    get connections() {
      return sockets.length;
    },
    openTicket() {
      const ticket = randomBytes(12).toString('hex');
      tickets.add(ticket);
      return `${SOCKET_PATH}?ticket=${ticket}&app_id=${appId}`;
    },
    upgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://standin.invalid');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (
        url.pathname !== SOCKET_PATH ||
        !tickets.delete(ticket) ||
        typeof req.headers['sec-websocket-key'] !== 'string' ||
        (req.headers.upgrade ?? '').toLowerCase() !== 'websocket'
      ) {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, onConnection);
    },
    waitForSocket(timeoutMs) {
      if (sockets.length > 0) return Promise.resolve();
      return nextEvent(emitter, 'socketOpen', () => true, timeoutMs, 'Socket Mode connection').then(() => undefined);
    },
    send(type, payload, opts = {}) {
      // The newest connection that is still open (one whose close handshake has begun is already gone).
      const ws = sockets.filter((w) => w.readyState === w.OPEN).at(-1);
      if (ws === undefined) return Promise.reject(new Error('slack stand-in: no Socket Mode connection'));
      const envelope: SocketEnvelope = {
        envelope_id: `${randomBytes(4).toString('hex')}-${++envelopeSeq}`,
        type,
        payload,
        accepts_response_payload: opts.acceptsResponsePayload ?? type === 'slash_commands',
        sentAt: Date.now(),
      };
      envelopes.push(envelope);
      const timeoutMs = opts.timeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
      return new Promise<SocketAck>((resolve, reject) => {
        const timer = setTimeout(() => {
          pendingAcks.delete(envelope.envelope_id);
          reject(
            new Error(`slack stand-in: no ack for ${type} envelope ${envelope.envelope_id} within ${timeoutMs} ms`),
          );
        }, timeoutMs);
        pendingAcks.set(envelope.envelope_id, {
          envelope,
          resolve: (a) => {
            clearTimeout(timer);
            resolve(a);
          },
        });
        sendText(
          ws,
          JSON.stringify({
            envelope_id: envelope.envelope_id,
            type,
            payload,
            accepts_response_payload: envelope.accepts_response_payload,
            ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
          }),
        );
      });
    },
    disconnect(reason) {
      for (const ws of sockets) {
        sendText(ws, JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-standin' } }));
      }
    },
    close() {
      for (const ws of [...sockets]) drop(ws);
      wss.close();
    },
  };
}
