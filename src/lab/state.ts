/** What a running lab records about itself, in RUN_ROOT/<lab>/state.json. */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { writeFileAtomic } from '../lib/fs';
import { join } from 'node:path';
import { CnilabError } from '../lib/errors';
import { RUN_ROOT, runDir } from './names';
import type { Topology } from '../topology/schema';

export interface PodState {
  readonly name: string;
  readonly node: string;
  readonly netns: string;
  /** Its address: the first of the topology's ipFamilies. */
  readonly ip: string;
  /** Every address, when it has more than one (dual-stack): the families in the topology's order. */
  readonly ips?: readonly string[];
  readonly mtu: number;
  readonly containerId: string;
  /** How long its CNI ADD took (ms), as the runtime saw it; absent in labs from before it was recorded. */
  readonly addMs?: number;
}

export interface ProcessState {
  readonly pid: number;
  readonly role: string;
  readonly node: string;
  readonly log: string;
}

export interface LabState {
  readonly version: 1;
  readonly lab: string;
  readonly arch: string;
  readonly status: 'creating' | 'up';
  readonly createdAt: string;
  readonly topology: Topology;
  readonly pods: readonly PodState[];
  readonly processes: readonly ProcessState[];
}

export function stateFile(lab: string): string {
  return join(runDir(lab), 'state.json');
}

export function writeState(state: LabState): void {
  const file = stateFile(state.lab);
  mkdirSync(runDir(state.lab), { recursive: true });
  writeFileAtomic(file, JSON.stringify(state, null, 2));
}

export function readState(lab: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(lab), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

/** Labs that have a run folder. */
export function listLabs(): string[] {
  try {
    return readdirSync(RUN_ROOT).sort();
  } catch {
    return [];
  }
}

/** The lab a command acts on: the one named, or the only one running. */
export function pickLab(name: string | undefined): string {
  if (name !== undefined) return name;
  const labs = listLabs();
  if (labs.length === 1) return labs[0]!;
  if (labs.length === 0) throw new CnilabError('LAB_NOT_FOUND', 'no lab is up; start one with: cnilab up');
  throw new CnilabError('LAB_AMBIGUOUS', `${labs.length} labs are up (${labs.join(', ')}); name one with --lab`);
}

export function requireState(lab: string): LabState {
  const s = readState(lab);
  if (!s)
    throw new CnilabError(
      'LAB_NOT_FOUND',
      `lab ${JSON.stringify(lab)} is not up (no ${stateFile(lab)}); start it with: cnilab up`,
    );
  return s;
}

/** The pod's address of `family`, or undefined when it has none. */
export function podIp(pod: Pick<PodState, 'ip' | 'ips'>, family: 4 | 6): string | undefined {
  return (pod.ips ?? [pod.ip]).find((a) => a.includes(':') === (family === 6));
}
