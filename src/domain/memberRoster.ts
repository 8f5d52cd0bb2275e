// The members of one conversation with their roles, in joining order, as an immutable value that is
// cheap to change. Groups reach 100,000 members, and copying a Map that size costs tens of
// milliseconds of a shared event loop per join or leave. So a roster is a frozen base Map plus a small
// overlay of changes since: a change copies only the overlay, and once the overlay outgrows about
// √size it is merged into a new base. That is O(√n) amortised per membership change, O(1) lookups.
//
// Order: a role change keeps a member's place; joining (or re-joining after leaving) goes last. The
// order decides who inherits ownership, so iteration must honour it exactly.
import type { MemberRole } from './events.js';

/** A change over the base: null = removed; `moved` = (re)joined after the base, so listed after it. */
type Change = { readonly role: MemberRole; readonly moved: boolean } | null;

const MIN_OVERLAY = 32;

export class MemberRoster implements ReadonlyMap<string, MemberRole> {
  private constructor(
    private readonly base: ReadonlyMap<string, MemberRole>,
    private readonly overlay: ReadonlyMap<string, Change>,
    readonly size: number,
  ) {}

  static of(entries: Iterable<readonly [string, MemberRole]>): MemberRoster {
    const base = new Map(entries);
    return new MemberRoster(base, new Map(), base.size);
  }

  get(userId: string): MemberRole | undefined {
    const change = this.overlay.get(userId);
    return change === undefined ? this.base.get(userId) : (change?.role ?? undefined);
  }

  has(userId: string): boolean {
    return this.get(userId) !== undefined;
  }

  forEach(callback: (role: MemberRole, userId: string, map: ReadonlyMap<string, MemberRole>) => void, thisArg?: unknown): void {
    for (const [userId, role] of this.entries()) callback.call(thisArg, role, userId, this);
  }

  *entries(): MapIterator<[string, MemberRole]> {
    const overlay = this.overlay;
    for (const entry of this.base) {
      const change = overlay.get(entry[0]);
      if (change === undefined) yield [entry[0], entry[1]];
      else if (change !== null && !change.moved) yield [entry[0], change.role];
    }
    for (const [userId, change] of overlay) if (change?.moved) yield [userId, change.role];
  }

  *keys(): MapIterator<string> {
    for (const [userId] of this.entries()) yield userId;
  }

  *values(): MapIterator<MemberRole> {
    for (const [, role] of this.entries()) yield role;
  }

  [Symbol.iterator](): MapIterator<[string, MemberRole]> {
    return this.entries();
  }

  /** The roster with the users not yet members added last, as plain members, in the order given. */
  withJoined(userIds: readonly string[]): MemberRoster {
    const overlay = new Map(this.overlay);
    let size = this.size;
    for (const userId of userIds) {
      if (this.isIn(overlay, userId)) continue;
      overlay.delete(userId); // a re-join goes last, so drop any earlier place in the overlay
      overlay.set(userId, { role: 'member', moved: true });
      size++;
    }
    return this.next(overlay, size);
  }

  /** The roster with the user's role changed in place (a non-member joins last with that role). */
  withRole(userId: string, role: MemberRole): MemberRoster {
    const overlay = new Map(this.overlay);
    if (!this.isIn(overlay, userId)) {
      overlay.delete(userId);
      overlay.set(userId, { role, moved: true });
      return this.next(overlay, this.size + 1);
    }
    overlay.set(userId, { role, moved: this.overlay.get(userId)?.moved ?? false });
    return this.next(overlay, this.size);
  }

  /** The roster without the user (itself when the user is not a member). */
  without(userId: string): MemberRoster {
    if (!this.has(userId)) return this;
    const overlay = new Map(this.overlay);
    if (this.base.has(userId)) overlay.set(userId, null);
    else overlay.delete(userId);
    return this.next(overlay, this.size - 1);
  }

  private isIn(overlay: ReadonlyMap<string, Change>, userId: string): boolean {
    const change = overlay.get(userId);
    return change === undefined ? this.base.has(userId) : change !== null;
  }

  private next(overlay: Map<string, Change>, size: number): MemberRoster {
    const roster = new MemberRoster(this.base, overlay, size);
    return overlay.size > Math.max(MIN_OVERLAY, Math.sqrt(size)) ? MemberRoster.of(roster.entries()) : roster;
  }
}
