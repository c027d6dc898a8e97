import { CnilabError, type ErrorCode } from './errors';

/** A named set of implementations: duplicates are refused, an unknown name lists the known ones. */
export class Registry<T> {
  private readonly items = new Map<string, T>();

  constructor(
    private readonly kind: string,
    private readonly unknownCode: ErrorCode = 'INVALID_INPUT',
  ) {}

  register(name: string, item: T): this {
    if (this.items.has(name))
      throw new CnilabError('CONFLICT', `${this.kind} ${JSON.stringify(name)} is registered twice`);
    this.items.set(name, item);
    return this;
  }

  get(name: string): T {
    const item = this.items.get(name);
    if (item === undefined)
      throw new CnilabError(
        this.unknownCode,
        `unknown ${this.kind} ${JSON.stringify(name)}; known: ${this.names().join(', ')}`,
      );
    return item;
  }

  has(name: string): boolean {
    return this.items.has(name);
  }

  names(): string[] {
    return [...this.items.keys()];
  }
}
