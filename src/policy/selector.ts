/**
 * Label selectors as Kubernetes evaluates them (apimachinery's LabelSelectorAsSelector): every
 * matchLabels pair and every matchExpressions requirement must hold; an empty selector selects
 * everything. NotIn and DoesNotExist hold for a label that is absent.
 */
import type { Labels } from '../apiserver/model';
import type { LabelSelector } from './model';

export function selectorMatches(s: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const v = labels[e.key];
    const inValues = has && (e.values ?? []).includes(v!);
    const ok =
      e.operator === 'In' ? inValues : e.operator === 'NotIn' ? !inValues : e.operator === 'Exists' ? has : !has;
    if (!ok) return false;
  }
  return true;
}
