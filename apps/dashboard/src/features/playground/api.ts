import { useMutation } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../lib/api';

export type Evaluations = Schemas['EvaluationsView'];
export type Result = Schemas['ResultView'];

/** Every flag's result for one context, by the server's `@aviary/core` (a read: nothing is cached or invalidated). */
export function useEvaluateAll() {
  return useMutation({
    mutationFn: async ({ env, context }: { env: string; context: Record<string, unknown> }): Promise<Evaluations> => {
      const data = await unwrap(api.POST('/api/v1/environments/{env}/evaluate', { params: { path: { env } }, body: { context } }));
      // The operation answers one Result when asked for one flag; without `flag` it is every flag's.
      if (!('results' in data)) throw new Error("The server answered one flag's result where every flag's was asked for.");
      return data;
    },
  });
}
