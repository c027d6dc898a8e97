/** Flag parsers the tests after the rounds share: whole numbers within bounds, lists of them. */
import { CnilabError } from '../../lib/errors';

/** A whole number from 1 to `max`, or INVALID_INPUT naming the flag. */
export const wholeNumber =
  (flag: string, max: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new CnilabError('INVALID_INPUT', `--${flag}: ${JSON.stringify(v)} must be a whole number from 1 to ${max}`);
    return n;
  };
