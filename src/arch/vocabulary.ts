/**
 * The words every layer uses of architectures, defined once: the families the report groups them
 * by, the paths a run measures, and the baseline every ratio is taken against. The registry, the
 * engine, results.json's schema and the report import them from here.
 */

/**
 * How the report groups architectures, as the paper's figures do: `baseline` (no pods), `overlay`
 * (pod packets travel encapsulated between nodes), `native` (pod packets travel as they are, over
 * an L2 segment or a bridge) or `l3` (pod packets cross nodes by routes alone: no encapsulation,
 * no shared L2 segment).
 */
export const FAMILIES = ['baseline', 'overlay', 'native', 'l3'] as const;
export type ArchFamily = (typeof FAMILIES)[number];

/**
 * The paths a run measures: between pods of one node, of two nodes, of two pod networks through a
 * router — and `service`: the inter-node pods again, the client dialling a Service's ClusterIP
 * that a proxy turns into the server pod (only in labs with a proxy, `--proxy`).
 */
export const PATHS = ['intra-node', 'inter-node', 'routed', 'service'] as const;
export type PathName = (typeof PATHS)[number];

/** The architecture every row's ratio is taken against: node to node, no pods (arch/host). */
export const BASELINE_ARCH = 'host';
