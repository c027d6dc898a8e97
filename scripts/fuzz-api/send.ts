/** Sends one fuzzer request over the controller's Unix socket: through node:http, or raw bytes on a socket. */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { FuzzRequest } from './generate';

export interface Answer {
  /** The HTTP status; 0 when none came (`error` says why). */
  readonly status: number;
  readonly text: string;
  /** ECONNRESET, EPIPE, 'timeout', 'closed': why no status came. */
  readonly error?: string;
}

/** `r` sent to the controller on `socketPath`; never rejects. An answer later than `timeoutMs` is a 'timeout'. */
export function send(socketPath: string, r: FuzzRequest, timeoutMs: number): Promise<Answer> {
  return r.raw ? sendRaw(socketPath, r.raw, timeoutMs) : sendHttp(socketPath, r, timeoutMs);
}

function sendHttp(socketPath: string, r: FuzzRequest, timeoutMs: number): Promise<Answer> {
  return new Promise<Answer>((resolve) => {
    let done = false;
    const finish = (a: Answer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    // node:http frames a GET's or DELETE's body with no Content-Length: the controller would read it as a next request.
    const headers = r.body ? { 'content-length': String(r.body.length), ...r.headers } : r.headers;
    const req = request({ socketPath, method: r.method, path: r.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => finish({ status: res.statusCode ?? 0, text: '', error: errorCode(e) }));
    });
    // finish runs in the request's callbacks only, never before this line.
    const timer = setTimeout(() => {
      finish({ status: 0, text: '', error: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => finish({ status: 0, text: '', error: errorCode(e) }));
    req.end(r.body);
  }).catch((e: unknown) => ({ status: 0, text: '', error: `not sent: ${errorCode(e as Error)}` }));
}

/** Writes `bytes` and reads until the server closes or `timeoutMs` passes: the first status line's code. */
function sendRaw(socketPath: string, bytes: Buffer, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = connect(socketPath);
    const finish = (error?: string): void => {
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text, ...(m ? {} : { error: error ?? 'closed' }) });
    };
    // A raw request may be left incomplete on purpose: no answer within the time is what it gets.
    const timer = setTimeout(() => finish('timeout'), Math.min(timeoutMs, 300));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => finish());
    sock.on('error', (e) => finish(errorCode(e)));
    sock.write(bytes);
  });
}

function errorCode(e: Error): string {
  return (e as NodeJS.ErrnoException).code ?? e.message;
}
