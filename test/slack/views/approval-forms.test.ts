import { describe, expect, it } from 'vitest';
import type { ChangeDraft } from '../../../src/core/desk.js';
import { createMetadataCodec } from '../../../src/slack/metadata.js';
import { draftFromMetadata, draftMetadata, reasonFormView } from '../../../src/slack/views/approval-forms.js';

const target = { service: 'zpool-1', partition: 'data' };
const codec = createMetadataCodec('secret', () => 1_000);

describe('the reason form’s metadata', () => {
  it('names the change, and only the change: the desk decides who may', () => {
    const drafts: ChangeDraft[] = [
      { action: 'snapshot.delete', target, name: 'before-upgrade' },
      { action: 'schedule.remove', target, type: 'day-7' },
      { action: 'schedule.add', target, type: 'hour-6' },
      { action: 'snapshot.create', target, name: 'pre', expires: '7d' },
      { action: 'snapshot.create', target, name: undefined, expires: undefined },
    ];
    for (const draft of drafts) {
      const decoded = codec.decode(codec.encode({ u: 'U1', c: 'C1', ...draftMetadata(draft) }), 'U1');
      expect(decoded).toBeDefined();
      expect(draftFromMetadata(decoded ?? { u: '', c: null, t: 0 })).toEqual(draft);
    }
  });

  it('keeps a resolved creation’s expiration as the expiry to ask for again', () => {
    const metadata = draftMetadata({
      action: 'snapshot.create',
      target,
      name: 'pre',
      expiration: '2026-12-31T00:00:00Z',
    });
    expect(draftFromMetadata({ u: 'U1', c: null, t: 0, ...metadata })).toEqual({
      action: 'snapshot.create',
      target,
      name: 'pre',
      expires: '2026-12-31T00:00:00Z',
    });
  });

  it('names nothing when the metadata does not name a valid change', () => {
    const base = { u: 'U1', c: null, t: 0, s: 'zpool-1', p: 'data' };
    expect(draftFromMetadata({ ...base, k: 'schedule.remove', n: 'day-9' })).toBeUndefined();
    expect(draftFromMetadata({ ...base, k: 'snapshot.delete' })).toBeUndefined();
    expect(draftFromMetadata({ ...base, k: 'snapshot.quick', n: 'x' })).toBeUndefined();
    expect(draftFromMetadata({ ...base, k: 'read' })).toBeUndefined();
    expect(draftFromMetadata({ u: 'U1', c: null, t: 0, k: 'snapshot.delete', n: 'x' })).toBeUndefined();
  });

  it('the form says what will be asked, the name shown literally', () => {
    const view = reasonFormView(
      { metadata: codec },
      { userId: 'U1', channelId: 'C1' },
      {
        action: 'snapshot.delete',
        target,
        name: '<!channel>*x*',
      },
    );
    expect(view.callback_id).toBe('nasha_modal_reason');
    const json = JSON.stringify(view.blocks);
    expect(json).toContain('Delete snapshot `&lt;!channel&gt;*x*` on `zpool-1/data` needs a second person');
    const decoded = codec.decode(view.private_metadata, 'U1');
    expect(decoded && draftFromMetadata(decoded)).toEqual({ action: 'snapshot.delete', target, name: '<!channel>*x*' });
  });
});
