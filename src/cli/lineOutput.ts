// Writes output lines to stdout with backpressure, and notices when the reader has gone away (EPIPE,
// e.g. `missive replay | head`): the command then stops reading the log and exits normally.
const READER_GONE_CODES = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ECONNRESET']);

export interface LineOutput {
  /** Resolves false once the reader is gone; nothing further needs to be written. */
  write(line: string): Promise<boolean>;
}

export function createLineOutput(stream: NodeJS.WritableStream = process.stdout): LineOutput {
  let gone = false;
  let failure: Error | undefined;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (READER_GONE_CODES.has(error.code ?? '')) gone = true;
    else failure = error;
  });
  const drainedOrGone = () =>
    new Promise<void>((resolve) => {
      const settle = () => {
        stream.off('drain', settle).off('error', settle).off('close', settle);
        resolve();
      };
      stream.once('drain', settle).once('error', settle).once('close', settle);
    });
  return {
    async write(line) {
      if (failure) throw failure;
      if (gone) return false;
      if (!stream.write(`${line}\n`)) await drainedOrGone();
      return !gone;
    },
  };
}
