// Values written in a transaction that has not committed yet, so that memory can forget them if
// it rolls back (the interner's tables, its packages, the vulnerabilities' other names).
export class Pending<T> {
  private items: T[] = [];

  add(item: T): void {
    this.items.push(item);
  }

  /** The transaction committed: nothing is pending any more. */
  commit(): void {
    this.items = [];
  }

  /** Where the pending values stand now, to roll back to. */
  get mark(): number {
    return this.items.length;
  }

  /** Hands every value added since `mark` (all of them by default) to `forget`; how many. */
  rollback(forget: (item: T) => void, mark = 0): number {
    const dropped = this.items.splice(mark);
    for (const item of dropped) forget(item);
    return dropped.length;
  }
}
