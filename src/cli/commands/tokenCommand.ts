// `missive token <userId>`: a bearer token for development and operations scripts, signed with the
// configured secret exactly as the server verifies it (src/auth/tokens.ts).
import type { Command } from 'commander';
import { isValidUserId } from '../../domain/ids.js';
import { CliInputError } from '../cliErrors.js';
import { optionParser, parsePositiveInteger } from '../parseOptions.js';

export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('print a signed bearer token (JWT) for a user: development and operations scripts')
    .argument('<userId>', 'the user id (letters, digits, _ . @ -; at most 64)')
    .option('--admin', 'add the admin claim (operator endpoints)')
    .option('--ttl <seconds>', 'lifetime in seconds (default 1 hour, at most 30 days)', optionParser(parsePositiveInteger))
    .addHelpText(
      'after',
      `
Signs with MISSIVE_JWT_SECRET (and MISSIVE_JWT_ISSUER / MISSIVE_JWT_AUDIENCE): the server must use the same.
Examples:
  $ missive token ops-bot --admin --ttl 600
  $ export TOKEN=$(missive token alice)
  $ curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/v1/conversations`,
    )
    .action(async (userId: string, options: { admin?: boolean; ttl?: number }) => {
      if (!isValidUserId(userId)) throw new CliInputError('invalid_argument', `"${userId}" is not a valid user id (letters, digits, _ . @ -; 1 to 64)`);
      const { issueToken } = await import('../token/issueToken.js');
      process.stdout.write(`${await issueToken(userId, { admin: options.admin === true, ttlSeconds: options.ttl })}\n`);
    });
}
