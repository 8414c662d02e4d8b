/**
 * The registry of stage runtimes this engine implements. A rule whose IR holds a stage type
 * missing here is reported as unsupported, by name, when it compiles — never silently skipped.
 */
import type { Stage, StageType } from '../../ir/types.js';
import { dedupStage } from './dedup.js';
import { filterStage } from './filter.js';
import { newTermsStage } from './new-terms.js';
import { pipeStage } from './pipe.js';
import { sampleStage } from './sample.js';
import { sequenceStage } from './sequence.js';
import { thresholdStage } from './threshold.js';
import { suppressStage } from './suppress.js';
import { correlationStage } from './correlation.js';
import type { StageFactory } from './types.js';

const registry = new Map<StageType, StageFactory>();

export function registerStage<S extends Stage>(factory: StageFactory<S>): void {
  registry.set(factory.type, factory as unknown as StageFactory);
}

export function stageFactory(type: StageType): StageFactory | undefined {
  return registry.get(type);
}

registerStage(filterStage);
registerStage(dedupStage);
registerStage(newTermsStage);
registerStage(thresholdStage);
registerStage(suppressStage);
registerStage(sequenceStage);
registerStage(sampleStage);
registerStage(pipeStage);
registerStage(correlationStage);
