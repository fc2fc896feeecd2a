import type { webApi } from '@slack/bolt';
import { z } from 'zod';

const UsersSchema = z.object({ ok: z.literal(true), users: z.array(z.string()).default([]) });

/** Bounded so a slow Slack answer cannot hold a permission decision (and the 3 s ack) hostage. */
const FETCH_TIMEOUT_MS = 2_000;

/** Members of a Slack user group, through usergroups.users.list (scope usergroups:read). */
export function createGroupMemberFetcher(client: webApi.WebClient): (groupId: string) => Promise<string[]> {
  return async (groupId) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`usergroups.users.list took over ${FETCH_TIMEOUT_MS} ms`)),
        FETCH_TIMEOUT_MS,
      );
    });
    try {
      const response = await Promise.race([client.usergroups.users.list({ usergroup: groupId }), timeout]);
      return UsersSchema.parse(response).users;
    } finally {
      clearTimeout(timer);
    }
  };
}
