/** Filter: keep the matches whose (last) event satisfies the predicate. */
import type { FilterStage } from '../../ir/types.js';
import { compilePredicate } from '../predicate/index.js';
import type { Match, StageContext, StageFactory, StageRuntime } from './types.js';

export const filterStage: StageFactory<FilterStage> = {
  type: 'filter',
  create(stage: FilterStage, ctx: StageContext): StageRuntime {
    const test = compilePredicate(stage.predicate, ctx.schema);
    return {
      push(m: Match): Match[] {
        return test(m.events[m.events.length - 1]!) ? [m] : [];
      },
    };
  },
};
