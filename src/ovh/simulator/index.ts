export { type OvhErrorBody, SimulatorApiError } from './api-error.js';
export {
  type AccessRule,
  type ConsumerKeySpec,
  FULL_NASHA_ACCESS,
  ovhSignature,
  SANDBOX_CREDENTIALS,
  type SimulatorCredentials,
} from './auth.js';
export { generateLoopbackCertificate, type LoopbackCertificate } from './cert.js';
export { loadSimulatorConfig, parseSimulatorConfig, type SimulatorConfig } from './config-file.js';
export { simulatorConnection, simulatorServiceAccountConnection } from './connection.js';
export { type Fault, type FaultRule, FaultRuleSchema, type HeldRelease } from './faults.js';
export {
  type IamPolicy,
  type IamPolicyInput,
  IamStore,
  SANDBOX_NICHANDLE,
  SANDBOX_SERVICE_ACCOUNT,
  type ServiceAccountSpec,
  serviceAccountUrn,
} from './iam.js';
export { defaultSeed, parseSeed, SeedSchema, type SimulatorSeed } from './seed.js';
export {
  BASE_PATH,
  type HeldRequest,
  type RequestLogEntry,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
  TOKEN_PATH,
} from './server.js';
export {
  DEFAULT_LIMITS,
  DEFAULT_TASK_TIMINGS,
  FIRST_TASK_ID,
  type SimCustomSnapshot,
  type SimPartition,
  type SimStorage,
  type SimTask,
  type SimulatorLimits,
  SimulatorState,
  type TaskOutcomeRule,
  type TaskTimings,
} from './state.js';
