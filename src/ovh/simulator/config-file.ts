import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describeZodError } from './api-error.js';
import { AccessRuleSchema } from './auth.js';
import { FaultRuleSchema } from './faults.js';
import { SeedSchema } from './seed.js';
import { TaskOutcomeRuleSchema } from './state.js';

/** The CLI's `--config` file (JSON or YAML). Strict, so a misspelt key is reported, not ignored. */
export const SimulatorConfigSchema = z.strictObject({
  seed: SeedSchema.optional(),
  faults: z.array(FaultRuleSchema).optional(),
  taskOutcomes: z.array(TaskOutcomeRuleSchema).optional(),
  taskTimings: z
    .strictObject({ doingAfterMs: z.number().int().min(0), doneAfterMs: z.number().int().min(0) })
    .partial()
    .optional(),
  limits: z
    .strictObject({ maxCustomSnapshots: z.number().int().min(0), maxScheduledTypes: z.number().int().min(0) })
    .partial()
    .optional(),
  credentials: z
    .strictObject({ appKey: z.string().min(1), appSecret: z.string().min(1), consumerKey: z.string().min(1) })
    .partial()
    .optional(),
  consumerKeys: z
    .array(
      z.strictObject({
        consumerKey: z.string().min(1),
        accessRules: z.array(AccessRuleSchema).optional(),
        status: z.enum(['validated', 'pendingValidation']).optional(),
      }),
    )
    .optional(),
  autoValidateCredentials: z.boolean().optional(),
  timestampToleranceSeconds: z.number().int().min(0).optional(),
  skewSeconds: z.number().int().optional(),
  publicHost: z.string().min(1).optional(),
});
export type SimulatorConfig = z.infer<typeof SimulatorConfigSchema>;

/** Parses config text; errors name the file and every offending key (`faults[0].fault.ms: …`). */
export function parseSimulatorConfig(text: string, fileName: string): SimulatorConfig {
  let data: unknown;
  try {
    data = extname(fileName).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new Error(`${fileName}: cannot parse: ${(error as Error).message}`);
  }
  const result = SimulatorConfigSchema.safeParse(data ?? {});
  if (!result.success) throw new Error(`${fileName}: invalid simulator config:\n${describeZodError(result.error, '')}`);
  return result.data;
}

export async function loadSimulatorConfig(fileName: string): Promise<SimulatorConfig> {
  return parseSimulatorConfig(await readFile(fileName, 'utf8'), fileName);
}
