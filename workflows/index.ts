export { batchWorkflow } from './batch-workflow';
