import { FusionError } from '../errors/fusion-error.js';
import type { Usage } from '../spec/chat/chat-result.js';
import type { BudgetLimits } from '../spec/pipeline/pipeline-definition.js';

/** The error of a call the budget does not allow. Strategies treat it like a failed call. */
export class BudgetExceededError extends FusionError {
  constructor(message: string) {
    super({ code: 'budget_exceeded', status: 429, message, isRetryable: false });
    this.name = 'BudgetExceededError';
  }
}

/** Counts the calls and tokens of one fused request against its limits. */
export class Budget {
  readonly maxCalls: number;
  readonly maxTokens: number;
  calls = 0;
  tokens = 0;
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
    if (this.tokens >= this.maxTokens) {
      this.exceeded = true;
      throw new BudgetExceededError(`The pipeline's budget of ${this.maxTokens} tokens is spent.`);
    }
    this.calls++;
  }

  addUsage(usage: Usage | undefined | null): void {
    if (usage) this.tokens += usage.total_tokens;
  }
}
