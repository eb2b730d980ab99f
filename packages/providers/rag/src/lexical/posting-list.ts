/** The documents holding a term: parallel typed arrays, `length` entries used, grown by doubling. */
export interface Posting {
  slots: Uint32Array;
  frequencies: Uint32Array;
  length: number;
}

export function newPosting(capacity: number): Posting {
  return { slots: new Uint32Array(capacity), frequencies: new Uint32Array(capacity), length: 0 };
}

export function appendPosting(posting: Posting, slot: number, frequency: number): void {
  if (posting.length === posting.slots.length) {
    const slots = new Uint32Array(Math.max(4, posting.length * 2));
    const frequencies = new Uint32Array(slots.length);
    slots.set(posting.slots);
    frequencies.set(posting.frequencies);
    posting.slots = slots;
    posting.frequencies = frequencies;
  }
  posting.slots[posting.length] = slot;
  posting.frequencies[posting.length++] = frequency;
}

/** Removes a document slot; order inside a posting does not matter for term-at-a-time scoring. */
export function removePosting(posting: Posting, slot: number): void {
  const last = posting.length - 1;
  const at = posting.slots.subarray(0, posting.length).indexOf(slot);
  if (at === -1) return;
  posting.slots[at] = posting.slots[last]!;
  posting.frequencies[at] = posting.frequencies[last]!;
  posting.length = last;
}
