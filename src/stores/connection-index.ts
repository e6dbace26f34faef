/**
 * Records by (identifier, scope): connections without a scope in one map keyed by identifier,
 * scoped ones in a map per scope, so no string encoding of the pair is needed and no two
 * connections can ever share a key.
 */
export class ConnectionIndex<T> {
  private readonly unscoped = new Map<string, T>();
  private readonly scoped = new Map<string, Map<string, T>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(identifier: string, scope: string | null): T | undefined {
    return scope === null ? this.unscoped.get(identifier) : this.scoped.get(scope)?.get(identifier);
  }

  set(identifier: string, scope: string | null, value: T): void {
    let map = this.unscoped;
    if (scope !== null) {
      let inScope = this.scoped.get(scope);
      if (inScope === undefined) this.scoped.set(scope, (inScope = new Map<string, T>()));
      map = inScope;
    }
    if (!map.has(identifier)) this.count++;
    map.set(identifier, value);
  }

  /** Removes the entry if it is `value`; returns whether it was removed. */
  delete(identifier: string, scope: string | null, value: T): boolean {
    const map = scope === null ? this.unscoped : this.scoped.get(scope);
    if (map === undefined || map.get(identifier) !== value) return false;
    map.delete(identifier);
    if (scope !== null && map.size === 0) this.scoped.delete(scope);
    this.count--;
    return true;
  }

  /** Every value (iteration tolerates removal of the current one). */
  *values(): IterableIterator<T> {
    yield* this.unscoped.values();
    for (const inScope of this.scoped.values()) yield* inScope.values();
  }

  clear(): void {
    this.unscoped.clear();
    this.scoped.clear();
    this.count = 0;
  }
}
