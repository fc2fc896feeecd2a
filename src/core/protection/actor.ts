/**
 * The bot acting by itself for a protection policy: a system actor, named in every audit record it writes
 * (`protection:<policy>`). Only core makes one; the gate allows it what its policy needs, on what the policy
 * covers (src/core/gate.ts). A Slack user ID never has this form (U…/W…).
 */
import type { Actor } from '../model.js';

const PREFIX = 'protection:';

export function protectionActor(policy: string): Actor {
  return { userId: `${PREFIX}${policy}`, channelId: undefined, system: { policy } };
}

/** The policy a system actor's user id stands for, or undefined for a person. */
export function systemActorPolicy(userId: string): string | undefined {
  return userId.startsWith(PREFIX) ? userId.slice(PREFIX.length) : undefined;
}
