/** One request as a service's handler and its route rules get it: apart, so auth/rules.ts and service.ts share it. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** One request, as a service's handler gets it. */
export interface ServiceRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** The path's segments after the service's prefix: ['leases', 'node1'] for /v1/leases/node1. */
  readonly parts: readonly string[];
  /** The body as JSON (at most 64 KiB); read once, so an ownership check and the handler both may ask. */
  readonly readBody: () => Promise<unknown>;
  readonly send: (res: ServerResponse, status: number, body: unknown) => void;
  /**
   * The node making the request, when the controller checks credentials; undefined for the
   * administrator or when nothing is checked. For a write whose owner only the store knows at the
   * moment it writes (auth/rules.ts): the handler scopes the write to it, in the same transaction.
   */
  readonly caller?: string;
}
