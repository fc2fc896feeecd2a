import { z } from 'zod';

/** The messages between the benchmark and its children (ipc.ts), apart so a child loads only zod for them. */

export const OvhConfigSchema = z.object({
  connection: z.object({
    endpoint: z.string(),
    host: z.string(),
    port: z.number(),
    basePath: z.string(),
    appKey: z.string(),
    appSecret: z.string(),
    consumerKey: z.string(),
    caPem: z.string(),
  }),
  tuning: z.object({
    timeoutMs: z.number(),
    requestsPerMinute: z.number(),
    burst: z.number(),
    maxRetries: z.number(),
  }),
});

export const WorldInfoSchema = z.object({
  slackApiUrl: z.string(),
  /** A response_url is this plus an id. */
  responseUrlBase: z.string(),
  ovh: OvhConfigSchema,
});
export type WorldInfo = z.infer<typeof WorldInfoSchema>;

/** Where a child's startup went (ms): Node up to the entry module, loading the role's modules, starting it. */
export const PhasesSchema = z.object({ bootMs: z.number(), importMs: z.number(), startMs: z.number() });
export type Phases = z.infer<typeof PhasesSchema>;

export type ParentMessage =
  /** Memory and CPU so far; `gc` first collects garbage (children run with --expose-gc). */
  | { type: 'stats'; gc: boolean }
  /** World only: response_url posts and OVH requests seen so far, once there are at least `replies`. */
  | { type: 'count'; replies?: number };

export const ChildMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), port: z.number(), world: WorldInfoSchema.optional(), phases: PhasesSchema }),
  z.object({ type: z.literal('stats'), rss: z.number(), heapUsed: z.number(), cpuMs: z.number() }),
  z.object({ type: z.literal('count'), replies: z.number(), ovhRequests: z.number() }),
]);
export type ChildMessage = z.infer<typeof ChildMessageSchema>;
