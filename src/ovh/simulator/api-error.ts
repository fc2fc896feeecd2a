import type { z } from 'zod';

/** OVH's two JSON error shapes: business errors carry `class`, auth-layer errors carry `errorCode`. */
export type OvhErrorBody =
  | { class: string; message: string; details?: Record<string, string> }
  | { errorCode: string; httpCode: string; message: string };

/** An error the simulator answers with, exactly as OVH would (status + JSON body). */
export class SimulatorApiError extends Error {
  override readonly name = 'SimulatorApiError';
  readonly status: number;
  readonly body: OvhErrorBody;

  constructor(status: number, body: OvhErrorBody) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

export const notFound = (message: string): SimulatorApiError =>
  new SimulatorApiError(404, { class: 'Client::NotFound', message });

export const badRequest = (message: string): SimulatorApiError =>
  new SimulatorApiError(400, { class: 'Client::BadRequest', message });

export const conflict = (message: string): SimulatorApiError =>
  new SimulatorApiError(409, { class: 'Client::Conflict', message });

/** `The requested object (partitionName = data) does not exist`: OVH's 404 wording for a missing sub-object. */
export const objectNotFound = (key: string, value: string | number): SimulatorApiError =>
  notFound(`The requested object (${key} = ${value}) does not exist`);

/** Flattens zod issues into one line per problem, each naming the offending key (`faults[0].fault.ms: …`). */
export function describeZodError(error: z.ZodError, root: string): string {
  return error.issues
    .map((issue) => {
      let where = root;
      for (const key of issue.path) {
        where += typeof key === 'number' ? `[${key}]` : `${where === '' ? '' : '.'}${String(key)}`;
      }
      return `${where === '' ? '(root)' : where}: ${issue.message}`;
    })
    .join('\n');
}
