// `missive serve`: runs the service with the roles asked for (the work is in serve/runServer.ts).
import type { Command } from 'commander';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the service: REST API, WebSocket gateway, projector and relay (or the roles given)')
    .option('--role <roles>', 'comma list of api, gateway, projector, relay (default: all, or MISSIVE_ROLES)')
    .addHelpText(
      'after',
      `
SIGINT or SIGTERM closes the server cleanly; a second signal exits at once.
Examples:
  $ missive serve                                  # embedded: everything in one process, data in ./data
  $ missive serve --role api,gateway               # a front node (with DATABASE_URL, REDIS_URL, KAFKA_BROKERS)
  $ PORT=9090 missive serve --role projector,relay`,
    )
    .action(async (options: { role?: string }) => {
      const { runServer } = await import('../serve/runServer.js');
      await runServer(options.role);
    });
}
