/**
 * The API server's store: pods and Services in SQLite (RevisionedStore: WAL, synchronous=FULL, one
 * revision every change moves by one), with their in-memory indexes (selection.ts) rebuilt at open.
 *
 * For watchers (the proxies, `GET /api/proxy?since=R`): every Service row carries the revision of
 * its last change — its creation, or a pod change that changed its endpoints — indexed, and a
 * removed Service leaves one tombstone per port with the revision of its removal. "What changed
 * since R" is two indexed range reads. Tombstones are kept up to `maxRemoved`; the oldest go
 * beyond it, and a watcher whose R is older than what went gets everything again (`full`).
 */
import { CnilabError } from '../lib/errors';
import {
  contains,
  containsIPv4,
  formatIPv4,
  isIPv4,
  isStrictCidr,
  overlaps,
  parseAddr,
  parseCidr,
  parseIPv4,
  parsePrefix,
} from '../lib/ip';
import { RevisionedStore } from '../node/revisioned-store';
import { ClusterIps } from './cluster-ip';
import {
  NODE_LABEL,
  POD_LABEL,
  serviceSpecSchema,
  type ApiConfig,
  type Labels,
  type Pod,
  type Service,
  type ServiceView,
} from './model';
import { Selection } from './selection';
import { proxyAnswer, type ProxyAnswer } from './proxy-view';
import { PolicyTable } from './policy-table';
import type { z } from 'zod';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS pods (name TEXT PRIMARY KEY, node TEXT NOT NULL, ip TEXT NOT NULL UNIQUE, labels TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS services (
    name TEXT PRIMARY KEY, cluster_ip TEXT NOT NULL UNIQUE, spec TEXT NOT NULL, rev INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS services_rev ON services (rev);
  CREATE TABLE IF NOT EXISTS removed (name TEXT NOT NULL, port_name TEXT NOT NULL, rev INTEGER NOT NULL,
    PRIMARY KEY (name, port_name));
  CREATE INDEX IF NOT EXISTS removed_rev ON removed (rev);
  CREATE TABLE IF NOT EXISTS horizon (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL);`;

export interface ApiStoreOptions {
  /** Tombstones kept; older ones go, and watchers behind them get a full answer. Default 100,000. */
  readonly maxRemoved?: number;
}

type Parsed = z.output<typeof serviceSpecSchema>;

/** A pod as PUT asks for it. */
export interface PodBody {
  readonly node: string;
  readonly ip: string;
  readonly labels?: Labels | undefined;
}

export class ApiStore extends RevisionedStore {
  readonly config: ApiConfig;
  private readonly sel = new Selection();
  private readonly ips: ClusterIps;
  private readonly clusterRange;
  private removedCount: number;
  private readonly maxRemoved: number;
  /** The statements a pod change runs, prepared once: 120,000 pods in a batch would prepare them 120,000 times. */
  private readonly st;
  /** The NetworkPolicies (policy-table.ts), in the same file and revisions. */
  readonly policies: PolicyTable;

  constructor(file: string, config: ApiConfig, o: ApiStoreOptions = {}) {
    if (config.clusterCidr6 !== undefined && parsePrefix(config.clusterCidr6)?.family !== 6)
      throw new CnilabError(
        'INVALID_INPUT',
        `clusterCidr6: ${JSON.stringify(config.clusterCidr6)} is not an IPv6 CIDR`,
      );
    for (const [field, v] of Object.entries(config))
      if (field !== 'clusterCidr6' && !isStrictCidr(v))
        throw new CnilabError('INVALID_INPUT', `${field}: ${JSON.stringify(v)} is not an IPv4 CIDR`);
    const service = parseCidr(config.serviceCidr);
    if (service.prefix < 12 || service.prefix > 28)
      throw new CnilabError('INVALID_INPUT', `serviceCidr: ${config.serviceCidr} must be from /12 to /28`);
    if (overlaps(service, parseCidr(config.clusterCidr)))
      throw new CnilabError(
        'INVALID_INPUT',
        `serviceCidr: ${config.serviceCidr} overlaps clusterCidr ${config.clusterCidr}`,
      );
    super(file, SCHEMA);
    this.keepConfig<ApiConfig>(config, (old) =>
      old.serviceCidr !== config.serviceCidr || old.clusterCidr !== config.clusterCidr
        ? `${file} holds Services of ${old.serviceCidr} for pods of ${old.clusterCidr}, not ${config.serviceCidr} and ${config.clusterCidr}`
        : undefined,
    );
    this.config = config;
    this.maxRemoved = o.maxRemoved ?? 100_000;
    this.ips = new ClusterIps(config.serviceCidr);
    this.clusterRange = parseCidr(config.clusterCidr);
    for (const r of this.db.prepare('SELECT * FROM pods').all() as {
      name: string;
      node: string;
      ip: string;
      labels: string;
    }[])
      this.sel.setPod({ name: r.name, node: r.node, ip: r.ip, labels: JSON.parse(r.labels) as Labels });
    for (const r of this.db.prepare('SELECT spec FROM services').all() as { spec: string }[]) {
      const s = JSON.parse(r.spec) as Service;
      this.sel.addService(s);
      this.ips.take(s.clusterIp);
    }
    this.st = {
      holder: this.db.prepare('SELECT name FROM pods WHERE ip = ?'),
      upsertPod: this.db.prepare(
        'INSERT INTO pods VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET node = excluded.node, ip = excluded.ip, labels = excluded.labels',
      ),
      touch: this.db.prepare('UPDATE services SET rev = ? WHERE name = ?'),
    };
    this.removedCount = (this.db.prepare('SELECT COUNT(*) AS n FROM removed').get() as { n: number }).n;
    this.policies = new PolicyTable(
      this.db,
      (body) => this.transaction(() => body(this.stamper())),
      () => this.index,
    );
  }

  pods(): { revision: number; pods: Pod[] } {
    return { revision: this.index, pods: [...this.sel.pods.values()].sort((a, b) => a.name.localeCompare(b.name)) };
  }

  pod(name: string): Pod | undefined {
    return this.sel.pods.get(name);
  }

  services(): { revision: number; services: ServiceView[] } {
    const all = [...this.sel.services.values()].sort((a, b) => a.name.localeCompare(b.name));
    return { revision: this.index, services: all.map((s) => this.view(s)) };
  }

  service(name: string): ServiceView | undefined {
    const s = this.sel.services.get(name);
    return s && this.view(s);
  }

  /**
   * Adds or changes pod `name`. `labels` undefined keeps the pod's own (none for a new pod); the
   * store adds NODE_LABEL and POD_LABEL. With `caller`, the pod must be the caller's if it exists.
   */
  putPod(name: string, body: PodBody, caller?: string): Pod {
    return this.transaction(() => this.writePodBody(name, body, this.stamper(), caller));
  }

  /** `putPod` for each of `pods`, in one transaction: all or none. */
  putPods(pods: readonly (PodBody & { readonly name: string })[]): Pod[] {
    return this.transaction(() => {
      const stamp = this.stamper();
      return pods.map((p) => this.writePodBody(p.name, p, stamp));
    });
  }

  /** Replaces pod `name`'s labels (NODE_LABEL and POD_LABEL stay); NOT_FOUND when there is none. */
  setLabels(name: string, labels: Labels, caller?: string): Pod {
    return this.transaction(() => {
      const old = this.sel.pods.get(name);
      if (!old) throw new CnilabError('POD_NOT_FOUND', `pod ${name}: no such pod`);
      this.ownedBy(old, caller);
      return this.writePod(old, this.stamper(), { ...old, labels: withOwn(name, old.node, labels) });
    });
  }

  /** Removes pod `name`; false when there was none. */
  deletePod(name: string, caller?: string): boolean {
    return this.transaction(() => {
      const old = this.sel.pods.get(name);
      if (!old) return false;
      this.ownedBy(old, caller);
      const changed = this.sel.affected(old, undefined);
      this.bump();
      this.db.prepare('DELETE FROM pods WHERE name = ?').run(name);
      this.touch(changed, this.index);
      this.sel.removePod(name);
      return true;
    });
  }

  /**
   * Creates `specs` (validated by serviceSpecSchema) in one transaction, all or none: a name or
   * ClusterIP taken → CONFLICT, a ClusterIP out of range → INVALID_INPUT, each naming the field
   * (`field(i)` is the prefix of spec i's: "services.3" in a batch, "" for one).
   */
  createServices(specs: readonly Parsed[], field: (i: number) => string = () => ''): Service[] {
    return this.transaction(() => {
      const taken = new Set<number>();
      let from = 0;
      const names = new Set<string>();
      const made: Service[] = [];
      const f = (i: number, name: string): string => [field(i), name].filter(Boolean).join('.');
      for (const [i, spec] of specs.entries()) {
        if (this.sel.services.has(spec.name) || names.has(spec.name))
          throw new CnilabError('CONFLICT', `${f(i, 'name')}: Service ${spec.name} exists`);
        const n =
          spec.clusterIp === undefined
            ? (from = this.ips.next(taken, from) + 1) - 1
            : this.ips.check(spec.clusterIp, f(i, 'clusterIp'), taken);
        taken.add(n);
        names.add(spec.name);
        made.push(toService(spec, formatIPv4(n)));
      }
      this.bump();
      const rev = this.index;
      const insert = this.db.prepare('INSERT INTO services VALUES (?, ?, ?, ?)');
      const unbury = this.db.prepare('DELETE FROM removed WHERE name = ? AND port_name = ?');
      for (const s of made) {
        insert.run(s.name, s.clusterIp, JSON.stringify(s), rev);
        for (const p of s.ports) this.removedCount -= unbury.run(s.name, p.name).changes;
      }
      for (const s of made) {
        this.sel.addService(s);
        this.ips.take(s.clusterIp);
      }
      return made;
    });
  }

  /** Removes Service `name`, leaving a tombstone per port; false when there was none. */
  deleteService(name: string): boolean {
    return this.transaction(() => {
      if (!this.sel.services.has(name)) return false;
      this.bump();
      this.bury(name, this.index);
      this.compact();
      return true;
    });
  }

  /**
   * Removes Services `names` in one transaction at one revision, all or none: a name not there →
   * NOT_FOUND naming its field (`names.3`), a name twice → INVALID_INPUT.
   */
  deleteServices(names: readonly string[]): string[] {
    return this.transaction(() => {
      const seen = new Set<string>();
      names.forEach((n, i) => {
        if (seen.has(n)) throw new CnilabError('INVALID_INPUT', `names.${i}: ${n} is there twice`);
        if (!this.sel.services.has(n)) throw new CnilabError('NOT_FOUND', `names.${i}: Service ${n}: no such Service`);
        seen.add(n);
      });
      if (names.length === 0) return [];
      this.bump();
      for (const n of names) this.bury(n, this.index);
      this.compact();
      return [...names];
    });
  }

  /** Inside a change at `rev`: Service `name` (there) deleted, a tombstone per port, its ClusterIP freed. */
  private bury(name: string, rev: number): void {
    const s = this.sel.services.get(name)!;
    this.db.prepare('DELETE FROM services WHERE name = ?').run(name);
    const bury = this.db.prepare(
      'INSERT INTO removed VALUES (?, ?, ?) ON CONFLICT (name, port_name) DO UPDATE SET rev = excluded.rev',
    );
    const buried = this.db.prepare('SELECT COUNT(*) AS n FROM removed WHERE name = ?').get(name) as { n: number };
    this.removedCount += s.ports.length - buried.n;
    for (const p of s.ports) bury.run(name, p.name, rev);
    this.sel.removeService(name);
    this.ips.release(s.clusterIp);
  }

  /** What a proxy programs: everything (since 0, or older than the kept tombstones), else what changed after `since`. */
  proxy(since: number): ProxyAnswer {
    const revision = this.index;
    const horizon = (this.db.prepare('SELECT rev FROM horizon').get() as { rev: number } | undefined)?.rev ?? 0;
    const full = since <= 0 || since < horizon || since > revision;
    const names = full
      ? [...this.sel.services.keys()]
      : (this.db.prepare('SELECT name FROM services WHERE rev > ?').all(since) as { name: string }[]).map(
          (r) => r.name,
        );
    const removed = full
      ? []
      : (
          this.db.prepare('SELECT name, port_name FROM removed WHERE rev > ?').all(since) as {
            name: string;
            port_name: string;
          }[]
        ).map((r) => ({ name: r.name, portName: r.port_name }));
    const views = names.map((n) => this.view(this.sel.services.get(n)!));
    return proxyAnswer(this.config, revision, full, views, removed);
  }

  /** A change's revision: the store's bumped at the first call, the same after (one batch, one revision). */
  private stamper(): () => number {
    let rev: number | undefined;
    return () => (rev ??= (this.bump(), this.index));
  }

  /** True when `ip` lies in the pods' range of its family. */
  private inPodRange(ip: string): boolean {
    if (isIPv4(ip)) return containsIPv4(this.clusterRange, parseIPv4(ip));
    const range = this.config.clusterCidr6 === undefined ? undefined : parsePrefix(this.config.clusterCidr6);
    const a = parseAddr(ip);
    return range !== undefined && a !== undefined && contains(range, a);
  }

  private writePodBody(name: string, body: PodBody, stamp: () => number, caller?: string): Pod {
    const old = this.sel.pods.get(name);
    this.ownedBy(old, caller);
    if (!this.inPodRange(body.ip))
      throw new CnilabError(
        'INVALID_INPUT',
        `ip: ${body.ip} is not in the cluster's pod range ${[this.config.clusterCidr, this.config.clusterCidr6]
          .filter((c) => c !== undefined)
          .join(' or ')}`,
      );
    const holder = this.st.holder.get(body.ip) as { name: string } | undefined;
    if (holder && holder.name !== name)
      throw new CnilabError('CONFLICT', `ip: ${body.ip} is pod ${holder.name}'s address`);
    return this.writePod(old, stamp, {
      name,
      node: body.node,
      ip: body.ip,
      labels: withOwn(name, body.node, body.labels ?? withoutOwn(old?.labels)),
    });
  }

  private view(s: Service): ServiceView {
    return { ...s, endpoints: this.sel.endpoints(s) };
  }

  private ownedBy(pod: Pod | undefined, caller: string | undefined): void {
    if (pod && caller !== undefined && pod.node !== caller)
      throw new CnilabError('FORBIDDEN', `node ${caller} may not change pod ${pod.name}: it is node ${pod.node}'s`);
  }

  private writePod(old: Pod | undefined, stamp: () => number, pod: Pod): Pod {
    if (old && sameLabels(old.labels, pod.labels) && old.ip === pod.ip && old.node === pod.node) return old;
    const changed = this.sel.affected(old, pod);
    const rev = stamp();
    this.st.upsertPod.run(pod.name, pod.node, pod.ip, JSON.stringify(pod.labels));
    this.touch(changed, rev);
    this.sel.setPod(pod);
    return pod;
  }

  /** Services `names` changed at this revision (their endpoints did). */
  private touch(names: readonly string[], rev: number): void {
    for (const n of names) this.st.touch.run(rev, n);
  }

  /** Drops the oldest tombstones beyond `maxRemoved`; the horizon moves to the newest dropped. */
  private compact(): void {
    if (this.removedCount <= this.maxRemoved) return;
    const cut = this.db.prepare('SELECT rev FROM removed ORDER BY rev DESC LIMIT 1 OFFSET ?').get(this.maxRemoved) as {
      rev: number;
    };
    this.removedCount -= this.db.prepare('DELETE FROM removed WHERE rev <= ?').run(cut.rev).changes;
    this.db.prepare('INSERT INTO horizon VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET rev = excluded.rev').run(cut.rev);
  }
}

function toService(spec: Parsed, clusterIp: string): Service {
  return {
    name: spec.name,
    clusterIp,
    ports: spec.ports.map((p) => ({
      name: p.name,
      port: p.port,
      targetPort: p.targetPort ?? p.port,
      protocol: p.protocol,
    })),
    ...(spec.selector ? { selector: spec.selector } : {}),
    ...(spec.pods ? { pods: spec.pods } : {}),
    ...(spec.affinitySeconds ? { affinitySeconds: spec.affinitySeconds } : {}),
  };
}

/** `labels` with the pod's own two; a value given for either that is not the pod's own is refused. */
function withOwn(name: string, node: string, labels: Labels): Labels {
  const own = { [NODE_LABEL]: node, [POD_LABEL]: name };
  for (const [k, v] of Object.entries(own))
    if (k in labels && labels[k] !== v)
      throw new CnilabError('INVALID_INPUT', `labels.${k}: is the pod's own (${v}), set by the store`);
  return { ...labels, ...own };
}

/** A pod's labels but its own two: what it keeps when it moves. */
function withoutOwn(labels: Labels = {}): Labels {
  const { [NODE_LABEL]: _n, [POD_LABEL]: _p, ...rest } = labels;
  return rest;
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
