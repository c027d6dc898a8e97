/** A JSON request over node:http (lighter to load than fetch: agents start faster). */
import { request } from 'node:http';
import { readCredential } from './credential';
import { CnilabError } from './errors';

export interface HttpJsonOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** Connect to this Unix socket instead of the URL's host (the URL then gives only the path). */
  readonly socketPath?: string;
  /** Sent as `Authorization: Bearer TOKEN`: a credential for the controller, never logged. */
  readonly token?: string;
  /**
   * The file holding that token (lib/credential.ts), read at this request; without the file none is
   * sent. What the lab's processes are given: the path, never the token.
   */
  readonly credential?: string;
}

export function httpJson<T>(url: string, options: HttpJsonOptions = {}): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const token = options.token ?? (options.credential ? readCredential(options.credential) : undefined);
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: {
          'content-type': 'application/json',
          // Framed by its length: node sends a DELETE's body unframed otherwise (no chunked encoding for it).
          ...(payload !== undefined ? { 'content-length': Buffer.byteLength(payload) } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        signal: options.signal,
        ...(options.socketPath ? { socketPath: options.socketPath } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
          } catch {
            reject(
              new CnilabError(
                'AGENT_FAILED',
                `${options.method ?? 'GET'} ${url}: answer is not JSON: ${text.slice(0, 200)}`,
              ),
            );
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
