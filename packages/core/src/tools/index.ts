/**
 * The orchestrator's tool loop: a chat request that names orchestrator tools in `fusion_tools` has
 * them offered to the model, and the calls the model makes run here, until it answers.
 * @module
 */
export { runToolCall, type ToolCallOutcome, truncateResult } from './run-tool-call.js';
export { runToolLoop } from './run-tool-loop.js';
export { streamToolLoop } from './stream-tool-loop.js';
export { TOOL_STEPS_FIELD, type ToolLoopContext, type ToolLoopStep } from './tool-loop-context.js';
export {
  DEFAULT_MAX_STEPS,
  MAX_STEPS_LIMIT,
  planToolLoop,
  TOOL_LOOP_FIELD,
  type ToolLoopField,
  type ToolLoopPlan,
  toolDefinition,
  wantsToolLoop,
} from './tool-loop-request.js';
export {
  DEFAULT_MAX_RESULT_CHARS,
  DEFAULT_TOOL_TIMEOUT_MS,
  isDestructiveTool,
  mayRunTool,
  TOOL_POLICY,
  type ToolPolicy,
  toolPolicyOf,
} from './tool-policy.js';
