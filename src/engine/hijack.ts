/**
 * Attach to a container with a bare HTTP upgrade. dockerode's attach sends its options as a JSON
 * body, which Podman 4.3's compat API delivers to the container's stdin before the user's input
 * (verified: `got:{"stream":true,...}hello`). Sending the options in the query string and no body
 * works on both engines.
 */
import http from 'node:http';
import type { Socket } from 'node:net';

export interface Transport {
  socketPath?: string;
  host?: string;
  port?: number;
}

/**
 * Request options for the engine API over `transport`. `servername: ''` skips Node's guess of a
 * TLS server name from the Host header, whose IPv6 check compiles a large regex on first use
 * (~4 ms of every command's start); the engine API is plain HTTP.
 */
export function apiOptions(transport: Transport): http.RequestOptions {
  return { ...transport, servername: '' } as http.RequestOptions;
}

export function hijack(transport: Transport, path: string, body?: unknown): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({
      ...apiOptions(transport),
      path,
      method: 'POST',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'tcp',
        ...(payload
          ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }
          : {}),
      },
    });
    req.on('upgrade', (_res, socket, head) => {
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.on('response', (res) => {
      // A non-upgrade answer is an error (404 no such container, 409 not running...).
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => reject(new Error(`attach failed (${res.statusCode}): ${text.trim()}`)));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
