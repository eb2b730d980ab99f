import type { PipelineDefinition } from '../spec/pipeline/pipeline-definition.js';
import type { RouteTarget } from '../spec/router/v1/router-v1.js';

/** Types a pipeline definition; returns it unchanged. */
export function definePipeline(definition: PipelineDefinition): PipelineDefinition {
  return definition;
}

/** The targets of a definition as {@link RouteTarget}s. */
export function pipelineTargets(definition: PipelineDefinition): RouteTarget[] {
  return definition.targets.map((target) => (typeof target === 'string' ? { model: target } : target));
}
