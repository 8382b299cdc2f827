import type { PriorityClass } from '../contracts/request.ts';

// Bounded priority queues for requests waiting on a saturated pool. Classes are served strictly in
// order (critical, then standard, then sheddable); within a class, tenants take turns (round robin
// over the tenants that have something queued), and each tenant's requests leave in arrival order.
// So one tenant's burst delays its own requests, not everyone else's.

export const PRIORITY_CLASSES: readonly PriorityClass[] = ['critical', 'standard', 'sheddable'];

export interface Queued {
  readonly priority: PriorityClass;
  readonly tenant: string;
}

/** One class: per-tenant FIFO lists and a ring of the tenants that have entries. */
class TenantRing<T extends Queued> {
  private readonly lists = new Map<string, T[]>();
  private readonly ring: string[] = [];
  private cursor = 0;
  size = 0;

  push(item: T): void {
    const list = this.lists.get(item.tenant);
    if (list === undefined) {
      this.lists.set(item.tenant, [item]);
      this.ring.push(item.tenant);
    } else {
      list.push(item);
    }
    this.size++;
  }

  shift(): T | undefined {
    if (this.ring.length === 0) return undefined;
    if (this.cursor >= this.ring.length) this.cursor = 0;
    const tenant = this.ring[this.cursor]!;
    const list = this.lists.get(tenant)!;
    const item = list.shift()!;
    this.size--;
    if (list.length === 0) this.drop(tenant);
    else this.cursor++;
    return item;
  }

  remove(item: T): boolean {
    const list = this.lists.get(item.tenant);
    const k = list === undefined ? -1 : list.indexOf(item);
    if (list === undefined || k === -1) return false;
    list.splice(k, 1);
    this.size--;
    if (list.length === 0) this.drop(item.tenant);
    return true;
  }

  /** Remove a tenant with nothing left; the cursor keeps pointing at the tenant after it. */
  private drop(tenant: string): void {
    this.lists.delete(tenant);
    const at = this.ring.indexOf(tenant);
    this.ring.splice(at, 1);
    if (at < this.cursor) this.cursor--;
  }
}

export class FlowQueue<T extends Queued> {
  private readonly classes: Readonly<Record<PriorityClass, TenantRing<T>>> = {
    critical: new TenantRing<T>(),
    standard: new TenantRing<T>(),
    sheddable: new TenantRing<T>(),
  };
  private readonly limits: Readonly<Record<PriorityClass, number>>;

  constructor(limits: Readonly<Record<PriorityClass, number>>) {
    this.limits = limits;
  }

  get size(): number {
    return this.classes.critical.size + this.classes.standard.size + this.classes.sheddable.size;
  }

  depth(cls: PriorityClass): number {
    return this.classes[cls].size;
  }

  /** Queue an item; false when its class is at its bound. */
  push(item: T): boolean {
    const ring = this.classes[item.priority];
    if (ring.size >= this.limits[item.priority]) return false;
    ring.push(item);
    return true;
  }

  /** The next item to serve: most urgent class first, tenants in turn within it. */
  shift(): T | undefined {
    for (const cls of PRIORITY_CLASSES) {
      const ring = this.classes[cls];
      if (ring.size > 0) return ring.shift();
    }
    return undefined;
  }

  remove(item: T): boolean {
    return this.classes[item.priority].remove(item);
  }
}
