import type { Sample } from './collect-samples.js';

/** One answer's share of the vote. */
export interface TallyEntry {
  answer: string;
  votes: number;
  /** Indexes of the samples that gave it, in sample order. */
  samples: number[];
}

/** The count of a vote so far. */
export interface VoteTally {
  /** Answers by votes, then by tie order. */
  entries: TallyEntry[];
  winner: Sample | undefined;
  winnerKey: string | undefined;
  /** The first answered sample in tie order, whether or not it voted (the fallback answer). */
  firstAnswered: Sample | undefined;
  /** True when the samples still pending cannot change the winner. */
  decided: boolean;
}

/**
 * Counts the answered samples by their key (`undefined` abstains). Ties go to the answer whose best
 * sample comes first in (target index, sample index) order, where sample i used target i mod
 * `targetCount`: deterministic whatever order the answers arrived in.
 */
export function tallyVotes(
  samples: readonly Sample[],
  targetCount: number,
  key: (sample: Sample) => string | undefined,
): VoteTally {
  const order = (index: number) => (index % targetCount) * samples.length + index;
  const groups = new Map<string, { entry: TallyEntry; first: Sample }>();
  let firstAnswered: Sample | undefined;
  let pending = 0;
  for (const sample of samples) {
    if (sample.status === 'pending') pending++;
    if (sample.status !== 'ok') continue;
    if (!firstAnswered || order(sample.index) < order(firstAnswered.index)) firstAnswered = sample;
    const answer = key(sample);
    if (answer === undefined) continue;
    const group = groups.get(answer);
    if (!group) groups.set(answer, { entry: { answer, votes: 1, samples: [sample.index] }, first: sample });
    else {
      group.entry.votes++;
      group.entry.samples.push(sample.index);
      if (order(sample.index) < order(group.first.index)) group.first = sample;
    }
  }
  const ranked = [...groups.values()].sort(
    (left, right) =>
      right.entry.votes - left.entry.votes || order(left.first.index) - order(right.first.index),
  );
  const leader = ranked[0];
  const runnerUp = ranked[1]?.entry.votes ?? 0;
  return {
    entries: ranked.map((group) => group.entry),
    winner: leader?.first,
    winnerKey: leader?.entry.answer,
    firstAnswered,
    // Strictly ahead of anything the pending samples could build, including a new answer.
    decided: leader !== undefined && leader.entry.votes > runnerUp + pending,
  };
}

/**
 * The form answers are compared in by `vote`: trimmed, lowercased, whitespace collapsed, trailing
 * punctuation stripped. `"  Paris. "` and `"paris"` are the same vote.
 */
export function normalizeAnswer(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[\s.!?,;:。！？…]+$/u, '');
}
