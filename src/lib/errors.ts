/**
 * One error type for the whole project. Callers branch on `code`, never on the message.
 * Messages say what went wrong, where, and what to do.
 */
export type ErrorCode =
  | 'EXEC_FAILED'
  | 'EXEC_NOT_FOUND'
  | 'EXEC_TIMEOUT'
  | 'ABORTED'
  | 'INVALID_TOPOLOGY'
  | 'INVALID_INPUT'
  | 'LAB_EXISTS'
  | 'LAB_NOT_FOUND'
  | 'LAB_AMBIGUOUS'
  | 'POD_NOT_FOUND'
  | 'UNKNOWN_ARCH'
  | 'UNKNOWN_PATH'
  | 'FEATURE_MISSING'
  | 'NOT_ROOT'
  | 'CNI_ERROR'
  | 'AGENT_FAILED'
  | 'TRAFFIC_FAILED'
  | 'DUPLICATE';

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

/** The message of anything thrown, for one-line reports. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
