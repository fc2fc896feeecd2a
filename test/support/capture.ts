import { Writable } from 'node:stream';

/** A writable stream that keeps what is written to it (a CLI's stdout or stderr in a test). */
export function captureStream(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      text += String(chunk);
      callback();
    },
  });
  return { stream, text: () => text };
}
