import type { ModelListEntry } from '../registry/registered-model.js';
import type { Pipeline } from './pipeline-runner.js';

/** The `/v1/models` entry of a pipeline: `owned_by: "fusion"`, `type: "pipeline"`, with its strategy and targets. */
export function pipelineListEntry(pipeline: Pipeline): ModelListEntry {
  const { definition } = pipeline;
  const entry: ModelListEntry = {
    id: pipeline.name,
    object: 'model',
    created: 0,
    owned_by: 'fusion',
    type: 'pipeline',
    status: 'ready',
    strategy: pipeline.strategy.name,
    router: pipeline.router.name,
    targets: pipeline.targets.map((target) => target.model),
  };
  if (definition.description !== undefined) entry.description = definition.description;
  if (definition.capabilities !== undefined) entry.capabilities = definition.capabilities;
  return entry;
}
