import { connect, type Socket } from 'node:net';

/** Send raw bytes on a fresh connection to 127.0.0.1:port and resolve with everything the server answered. */
export function rawRequest(port: number, payload: string | Buffer, waitMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(payload);
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** A client that announces a body, sends part of it and goes away (abort before the response). */
export async function abortMidRequest(port: number, path: string, announced = 1000, sent = 10): Promise<void> {
  const socket = await open(port);
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n` +
      `Content-Length: ${announced}\r\n\r\n` +
      'x'.repeat(sent),
  );
  await new Promise((r) => setTimeout(r, 100));
  socket.destroy();
}

/** A client that waits for the response headers, then goes away (abort after headers, mid-response). */
export async function abortAfterHeaders(port: number, path: string): Promise<string> {
  const socket = await open(port);
  return new Promise((resolve) => {
    let seen = '';
    socket.on('data', (c: Buffer) => {
      seen += c.toString('latin1');
      if (seen.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(seen.slice(0, seen.indexOf('\r\n')));
      }
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

/** A client that sends a GET to a slow route and goes away before any response. */
export async function abortBeforeResponse(port: number, path: string, afterMs = 50): Promise<void> {
  const socket = await open(port);
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  await new Promise((r) => setTimeout(r, afterMs));
  socket.destroy();
}

/** Poll `fn` until it returns true (bounded). */
export async function eventually(fn: () => Promise<boolean> | boolean, ms = 3000, step = 20): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, step));
  }
  return fn();
}
