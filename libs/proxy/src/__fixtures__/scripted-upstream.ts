/**
 * TEST DOUBLE — scripted-upstream. NOT a model.
 *
 * An HTTP server for the proxy's tests (and its benchmark) that answers each
 * request with a scripted reply: status, headers, body chunks written one by
 * one (optionally waiting between them or for the test to release them), a
 * connection cut after N chunks, or no answer at all. It records every
 * request it received (method, url, headers, body).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ScriptedReply {
  status?: number;
  headers?: Record<string, string>;
  /** Written in order, each with its own write(). */
  chunks?: (string | Buffer)[];
  /** Pause between chunks (ms). */
  delayMs?: number;
  /** Before writing chunk i, wait for this promise (e.g. a test's release signal). */
  gate?: { before: number; wait: Promise<void> };
  /** Destroy the socket after writing this many chunks. */
  cutAfter?: number;
  /** Never answer (for timeouts). */
  hang?: boolean;
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Resolves when the client side of this request went away. */
  closed: Promise<void>;
}

export interface ScriptedUpstream {
  url: string;
  received: ReceivedRequest[];
  /** Requests whose body has started to arrive but not ended. */
  receiving: number;
  /** The reply for every request (a function gets the request). */
  reply: ScriptedReply | ((req: ReceivedRequest) => ScriptedReply);
  stop(): Promise<void>;
}

export async function startScriptedUpstream(reply: ScriptedUpstream['reply']): Promise<ScriptedUpstream> {
  const sockets = new Set<Socket>();
  const state: ScriptedUpstream = { url: '', received: [], receiving: 0, reply, stop: async () => undefined };
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let closedResolve!: () => void;
    const closed = new Promise<void>((r) => (closedResolve = r));
    res.on('close', () => closedResolve());
    req.on('data', (c: Buffer) => {
      if (!chunks.length) state.receiving += 1;
      chunks.push(c);
    });
    req.on('end', async () => {
      if (chunks.length) state.receiving -= 1;
      const rec: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), closed };
      state.received.push(rec);
      const r = typeof state.reply === 'function' ? state.reply(rec) : state.reply;
      if (r.hang) return;
      res.writeHead(r.status ?? 200, r.headers ?? { 'content-type': 'application/json' });
      res.flushHeaders();
      const list = r.chunks ?? [];
      for (let i = 0; i < list.length; i++) {
        if (r.gate && r.gate.before === i) await r.gate.wait;
        if (res.destroyed) return;
        if (r.cutAfter !== undefined && i >= r.cutAfter) {
          await new Promise<void>((ok) => res.write('', () => ok()));
          res.socket?.destroy();
          return;
        }
        await new Promise<void>((ok) => res.write(list[i], () => ok()));
        if (r.delayMs) await new Promise((ok) => setTimeout(ok, r.delayMs));
      }
      if (r.cutAfter !== undefined && r.cutAfter >= list.length) {
        res.socket?.destroy();
        return;
      }
      res.end();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.stop = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return state;
}
