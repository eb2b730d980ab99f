/** The core's job runner, which the RAG plugin runs its large ingests on. */
export { JobRunner, type JobSnapshot, jobRoutes } from '@fusionkit/core';
