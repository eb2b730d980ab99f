import { FusionError } from '../errors/fusion-error.js';
import { estimatePromptTokens } from '../routing/estimate-tokens.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { Usage } from '../spec/chat/chat-result.js';
import type { BudgetLimits } from '../spec/pipeline/pipeline-definition.js';

/** The error of a call the budget does not allow. Strategies treat it like a failed call. */
export class BudgetExceededError extends FusionError {
  constructor(message: string) {
    super({ code: 'budget_exceeded', status: 429, message, isRetryable: false });
    this.name = 'BudgetExceededError';
  }
}

/** Tokens a chat template adds per message (role markers), on top of the text's estimate. */
const TOKENS_PER_MESSAGE = 4;

/** Tokens held for one running call: its prompt's estimate and the completion it may write. */
export interface TokenReservation {
  tokens: number;
}

/**
 * Counts the calls and tokens of one fused request against its limits. Tokens are reserved before a
 * call (the prompt's estimate plus the completion it may write, which is capped to what is left),
 * so calls running in parallel cannot together spend more than the limit; the reservation is
 * replaced by the call's real usage when it ends.
 */
export class Budget {
  readonly maxCalls: number;
  readonly maxTokens: number;
  calls = 0;
  /** Tokens spent by ended calls. */
  tokens = 0;
  /** Tokens held by running calls. */
  reserved = 0;
  /** Set once a limit refused something: the answer is partial. */
  exceeded = false;

  constructor(limits: BudgetLimits = {}) {
    this.maxCalls = limits.maxCalls ?? 16;
    this.maxTokens = limits.maxTokens ?? Number.POSITIVE_INFINITY;
  }

  /** Takes one call from the budget, or throws {@link BudgetExceededError}. */
  takeCall(): void {
    if (this.calls >= this.maxCalls) {
      this.exceeded = true;
      throw new BudgetExceededError(`The pipeline's budget of ${this.maxCalls} calls is spent.`);
    }
    if (this.tokens + this.reserved >= this.maxTokens) this.#refuseTokens();
    this.calls++;
  }

  /**
   * Reserves the tokens of one call before it starts, or throws {@link BudgetExceededError} when
   * not even one completion token is left after its prompt. Returns the request to send, its
   * completion limit lowered to what the budget has left, and the reservation to settle with
   * {@link Budget.settle}. Without a token limit, the request is returned as it is.
   */
  reserve(request: ChatRequest): { request: ChatRequest; reservation: TokenReservation | undefined } {
    if (this.maxTokens === Number.POSITIVE_INFINITY) return { request, reservation: undefined };
    const prompt = estimatePromptTokens(request) + TOKENS_PER_MESSAGE * request.messages.length;
    const free = this.maxTokens - this.tokens - this.reserved - prompt;
    if (free < 1) this.#refuseTokens();
    const asked = request.max_completion_tokens ?? request.max_tokens;
    const completion = asked === undefined ? free : Math.min(asked, free);
    const reservation = { tokens: prompt + completion };
    this.reserved += reservation.tokens;
    const capped =
      asked !== undefined && asked <= completion
        ? request
        : { ...request, max_tokens: completion, max_completion_tokens: completion };
    return { request: capped, reservation };
  }

  /**
   * Ends a call's reservation: its real usage counts instead, or, when it reported none, the whole
   * reservation (the budget cannot know what it spent, so it assumes the most).
   */
  settle(reservation: TokenReservation | undefined, usage: Usage | undefined | null, failed = false): void {
    if (reservation) {
      this.reserved -= reservation.tokens;
      // A failed call spent what it reported, or nothing we can know of; it produced no answer.
      if (!usage && !failed) this.tokens += reservation.tokens;
    }
    this.addUsage(usage);
  }

  addUsage(usage: Usage | undefined | null): void {
    if (usage) this.tokens += usage.total_tokens;
  }

  #refuseTokens(): never {
    this.exceeded = true;
    throw new BudgetExceededError(`The pipeline's budget of ${this.maxTokens} tokens is spent.`);
  }
}
