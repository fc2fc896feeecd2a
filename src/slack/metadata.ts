import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Modal `private_metadata` is echoed back by Slack but passes through the client, so it is not
 * trusted as such: we sign it. It only says *where* the modal was opened (channel, for channel
 * caps) and *what* it is about; *who* is always the verified payload's user, checked against it.
 * It never authorizes anything: whatever it names is submitted to the desk, which checks it again.
 */
const MetadataSchema = z.object({
  /** User the modal was opened for. */
  u: z.string(),
  /** Channel the command ran in (channel caps apply to it). */
  c: z.string().nullable(),
  s: z.string().optional(),
  p: z.string().optional(),
  /** Approval request id (reject form). */
  r: z.string().optional(),
  /** A change waiting for its reason: action, subject (snapshot name or frequency), expiry as typed. */
  k: z.string().optional(),
  n: z.string().optional(),
  e: z.string().optional(),
  /** Issued at (ms). */
  t: z.number(),
});
export type ModalMetadata = z.infer<typeof MetadataSchema>;

const MAX_AGE_MS = 24 * 3_600_000;

export interface MetadataCodec {
  encode(data: Omit<ModalMetadata, 't'>): string;
  /** The metadata if the signature is ours, it is fresh, and it was issued to `userId`. */
  decode(text: string | undefined, userId: string): ModalMetadata | undefined;
}

export function createMetadataCodec(secret: string, now: () => number): MetadataCodec {
  const key = createHash('sha256').update(`nasha-bot modal metadata\u0000${secret}`).digest();
  const sign = (body: string) => createHmac('sha256', key).update(body).digest('base64url');
  return {
    encode(data) {
      const body = Buffer.from(JSON.stringify({ ...data, t: now() })).toString('base64url');
      return `${body}.${sign(body)}`;
    },
    decode(text, userId) {
      if (text === undefined) return undefined;
      const [body, signature, extra] = text.split('.');
      if (body === undefined || signature === undefined || extra !== undefined) return undefined;
      const expected = Buffer.from(sign(body));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
      const parsed = MetadataSchema.safeParse(json);
      if (!parsed.success || parsed.data.u !== userId || now() - parsed.data.t > MAX_AGE_MS) return undefined;
      return parsed.data;
    },
  };
}
