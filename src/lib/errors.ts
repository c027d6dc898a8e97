/**
 * One error type for the whole project, `CnilabError`, with a stable `code`; callers branch on the
 * code, never on the message, and chain the error they caught as `cause`. Each code has one kind,
 * and the kind alone decides how a command exits and how an HTTP API answers — mapped here, once.
 * (The CNI protocol's own error, `CniError`, lives at the plugin boundary in cni/types.ts; whoever
 * takes one out of cni/ wraps it into a `CNI_ERROR`.) Messages say what went wrong, where, and what
 * to do.
 */

/** What a code means for whoever receives it. */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'too-large'
  | 'unavailable'
  | 'failed'
  | 'aborted';

const KINDS = {
  // bad input: fix the command, file or request
  INVALID_INPUT: 'invalid',
  INVALID_TOPOLOGY: 'invalid',
  UNKNOWN_ARCH: 'invalid',
  UNKNOWN_PATH: 'invalid',
  LAB_AMBIGUOUS: 'invalid',
  // no credential, or one the controller does not know (never issued, or revoked)
  UNAUTHENTICATED: 'unauthenticated',
  // a credential that does not allow this: someone else's object, or an administrator's route
  FORBIDDEN: 'forbidden',
  // what was named does not exist
  NOT_FOUND: 'not-found',
  LAB_NOT_FOUND: 'not-found',
  POD_NOT_FOUND: 'not-found',
  // it exists already, or clashes with what does
  CONFLICT: 'conflict',
  LAB_EXISTS: 'conflict',
  BODY_TOO_LARGE: 'too-large',
  LAB_TOO_LARGE: 'too-large',
  // this machine cannot do it
  NOT_ROOT: 'unavailable',
  FEATURE_MISSING: 'unavailable',
  EXEC_NOT_FOUND: 'unavailable',
  // it was tried and failed
  EXEC_FAILED: 'failed',
  EXEC_TIMEOUT: 'failed',
  KERNEL_FAILED: 'failed',
  CNI_ERROR: 'failed',
  AGENT_FAILED: 'failed',
  TRAFFIC_FAILED: 'failed',
  INTERNAL: 'failed',
  // Ctrl-C, SIGTERM or an abort signal
  ABORTED: 'aborted',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof KINDS;

export class CnilabError extends Error {
  override readonly name = 'CnilabError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isCnilabError(err: unknown, code?: ErrorCode): err is CnilabError {
  return err instanceof CnilabError && (code === undefined || err.code === code);
}

/** The code of anything thrown: its own, or INTERNAL for what is not a CnilabError (a bug). */
export function codeOf(err: unknown): ErrorCode {
  return err instanceof CnilabError ? err.code : 'INTERNAL';
}

const EXIT: Record<ErrorKind, number> = {
  invalid: 1,
  unauthenticated: 1,
  forbidden: 1,
  'not-found': 1,
  conflict: 1,
  'too-large': 1,
  unavailable: 1,
  failed: 1,
  aborted: 130,
};
const HTTP: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  unavailable: 503,
  failed: 500,
  aborted: 503,
};

/** How a command ends on this error: 130 when interrupted (as a shell reports Ctrl-C), else 1. */
export function exitCodeOf(err: unknown): number {
  return EXIT[KINDS[codeOf(err)]];
}

/** The HTTP status an API answers this error with. */
export function httpStatusOf(err: unknown): number {
  return HTTP[KINDS[codeOf(err)]];
}

/** The message of anything thrown, for one-line reports. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
