/**
 * Which partitions a policy covers: its scope patterns (as grants read them) and its target groups' partitions.
 * The configuration refuses two policies that could cover one partition, so a partition has one policy.
 */
import type { Logger } from 'pino';
import type { Target } from '../model.js';
import { scopeCovers } from '../policy.js';
import type { ProtectionConfig, ProtectionPolicy } from './model.js';
import type { Pacer, ProtectionOvh, ProtectionRepository } from './ports.js';

export function policyCovers(policy: ProtectionPolicy, target: Target): boolean {
  if (target.partition === undefined) return false;
  return policy.targets.some((t) =>
    t.kind === 'scope'
      ? scopeCovers(t.pattern, target)
      : t.partitions.some((p) => p.service === target.service && p.partition === target.partition),
  );
}

/** The policy that covers a partition, if any (the first: the configuration allows only one). */
export function policyFor(config: ProtectionConfig, target: Target): ProtectionPolicy | undefined {
  return config.policies.find((policy) => policyCovers(policy, target));
}

/** Whether a policy could cover some partition of the service (which services are worth listing). */
function mayCoverService(policy: ProtectionPolicy, service: string): boolean {
  return policy.targets.some((t) =>
    t.kind === 'scope'
      ? scopeCovers(t.pattern.includes('/') ? t.pattern.slice(0, t.pattern.indexOf('/')) : t.pattern, { service })
      : t.partitions.some((p) => p.service === service),
  );
}

export interface InventoryResult {
  covered: number;
  /** Services whose partitions could not be listed (their partitions keep their last known coverage). */
  failed: readonly string[];
}

/**
 * Finds the covered partitions on OVH (the service list, then the partitions of each service a policy may
 * cover) and records them, so the scheduler and status work from the same list on every replica.
 */
export async function takeInventory(deps: {
  config: ProtectionConfig;
  ovh: ProtectionOvh;
  pacer: Pacer;
  store: Pick<ProtectionRepository, 'syncCovered'>;
  now: () => number;
  logger?: Logger | undefined;
}): Promise<InventoryResult> {
  const reads = deps.ovh('background');
  await deps.pacer.wait('background', 1);
  const services = await reads.listServices();
  const wanted = services.filter((service) => deps.config.policies.some((p) => mayCoverService(p, service)));
  const found: { service: string; partition: string; policy: string }[] = [];
  const listed: string[] = [];
  const failed: string[] = [];
  for (const service of wanted) {
    await deps.pacer.wait('background', 1);
    let partitions: string[];
    try {
      partitions = await reads.listPartitions(service);
    } catch (error) {
      deps.logger?.warn({ err: error, service }, 'protection: could not list the partitions of a service');
      failed.push(service);
      continue;
    }
    listed.push(service);
    for (const partition of partitions) {
      const policy = policyFor(deps.config, { service, partition });
      if (policy !== undefined) found.push({ service, partition, policy: policy.name });
    }
  }
  await deps.store.syncCovered(found, { listed, existing: services }, deps.now());
  return { covered: found.length, failed };
}

/** What the gate asks before it lets a policy's system actor act: does that policy cover the target? */
export function protectionCoverage(config: ProtectionConfig | undefined): {
  covers(policy: string, target: Target): boolean;
} {
  return {
    covers(policyName, target) {
      const policy = config?.policies.find((p) => p.name === policyName);
      return policy !== undefined && policyCovers(policy, target);
    },
  };
}
