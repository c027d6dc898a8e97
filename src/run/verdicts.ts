/**
 * Every claim of a run judged at once (pure): the rankings, the paper's orderings and the designs
 * compared ask a judge about pairs of rows; the pairs are first collected (a dry pass), then
 * judged together, so that each pair's interval is moderated among all the pairs of its test
 * and metric (claims.ts, pairJudge).
 */
import { pairJudge, paperChecks, rankings, type ClaimRow, type Judge, type PaperCheck, type Ranking } from './claims';
import { designChecks, type DesignCheck } from './designs';
import { serviceHops, type ServiceHop } from './service-hop';
import { familyTwins, type FamilyTwin } from './family-twins';
import { BASELINE_ARCH } from '../arch/vocabulary';

export interface JudgedClaims {
  readonly rankings: Ranking[];
  readonly paper: PaperCheck[];
  readonly designs: DesignCheck[];
  readonly serviceHop: ServiceHop[];
  readonly families: FamilyTwin[];
}

export function judgeClaims(rows: readonly ClaimRow[], equivalencePct: number, baseline = BASELINE_ARCH): JudgedClaims {
  const asked: [ClaimRow, ClaimRow][] = [];
  const dry: Judge = (a, b) => {
    asked.push([a, b]);
    return undefined;
  };
  rankings(rows, dry, baseline);
  paperChecks(rows, dry);
  designChecks(rows, dry);
  serviceHops(rows, dry);
  familyTwins(rows, dry);
  const judge = pairJudge(asked, equivalencePct);
  return {
    rankings: rankings(rows, judge, baseline),
    paper: paperChecks(rows, judge),
    designs: designChecks(rows, judge),
    serviceHop: serviceHops(rows, judge),
    families: familyTwins(rows, judge),
  };
}
