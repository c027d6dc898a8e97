/**
 * The special functions the moderated intervals need (pure): digamma ψ, trigamma ψ′ and its
 * inverse, tetragamma ψ″, the 95% quantile of Student's t at any (non-integer) degrees of freedom,
 * and the upper tail of the F distribution. Recurrence up to x ≥ 6, then the asymptotic series —
 * exact to about 1e-10 there, plenty for fitting a prior.
 */
import { incompleteBeta, tTwoSidedP } from './paired';

/** ψ(x) = d/dx ln Γ(x), x > 0. */
export function digamma(x: number): number {
  let r = 0;
  while (x < 6) r -= 1 / x++;
  const f = 1 / (x * x);
  return r + Math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))));
}

/** ψ′(x), x > 0. */
export function trigamma(x: number): number {
  let r = 0;
  while (x < 6) r += 1 / (x * x++);
  const f = 1 / (x * x);
  return r + 1 / x + f / 2 + (f / x) * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f / 30)));
}

/** ψ″(x), x > 0. */
export function tetragamma(x: number): number {
  let r = 0;
  while (x < 6) r -= 2 / (x * x * x++);
  const f = 1 / (x * x);
  return r - f * (1 + 1 / x + f * (0.5 - f * (1 / 6 - f * (1 / 6 - (3 / 10) * f))));
}

/** y with ψ′(y) = v, v > 0 — Newton's method on 1/y as in Smyth (2004), limma's trigammaInverse. */
export function trigammaInverse(v: number): number {
  if (!(v > 0)) return NaN;
  if (v > 1e7) return 1 / Math.sqrt(v);
  if (v < 1e-6) return 1 / v;
  let y = 0.5 + 1 / v;
  for (let i = 0; i < 50; i++) {
    const tri = trigamma(y);
    const step = (tri * (1 - tri / v)) / tetragamma(y);
    y += step;
    if (-step / y < 1e-8) break;
  }
  return y;
}

/**
 * t(0.975, df): the two-sided 95% quantile, for any df > 0. Up to 30 by bisection on the exact
 * distribution function; beyond, the Cornish–Fisher expansion around the normal quantile
 * (exact to 4 decimals there).
 */
export function t975Real(df: number): number {
  if (!(df > 0)) return NaN;
  if (df > 30) {
    const z = 1.959964;
    const [z3, z5, z7] = [z ** 3, z ** 5, z ** 7];
    return (
      z +
      (z3 + z) / (4 * df) +
      (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
      (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3)
    );
  }
  let [lo, hi] = [0, 1000];
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (tTwoSidedP(mid, df) > 0.05) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** P(F(d1, d2) ≥ x): how likely a variance ratio at least this large is by chance. */
export function fUpperTail(x: number, d1: number, d2: number): number {
  if (!(x > 0)) return 1;
  return incompleteBeta(d2 / (d2 + d1 * x), d2 / 2, d1 / 2);
}
