import { z } from 'zod';

/** Where the store lives unless the config's `state.path` says otherwise. */
export const DEFAULT_STATE_PATH = '/var/lib/virt-squeeze/state.db';

/** Top-level `state:`: where the durable store lives. */
export const stateSchema = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .refine((p) => p.startsWith('/'), { message: 'must be an absolute path' })
      .default(DEFAULT_STATE_PATH)
      .meta({
        description: 'SQLite file holding tags, journal, power history, usage samples and the run lock',
      }),
  })
  .meta({ description: 'the durable local state store' });

export type StateConfig = z.output<typeof stateSchema>;
