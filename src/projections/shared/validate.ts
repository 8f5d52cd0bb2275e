// Argument checks shared by the query functions: bad input is a typed error and reads nothing.
import { InvalidQueryError } from '../errors.js';

export const MAX_PAGE = 1000;

export function checkLimit(limit: unknown, max = MAX_PAGE): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new InvalidQueryError('limit', `limit must be an integer from 1 to ${max}`);
  }
  return limit;
}

export function checkSeq(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2_147_483_647) {
    throw new InvalidQueryError(field, `${field} must be a non-negative integer seq`);
  }
  return value;
}

export function checkId(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new InvalidQueryError(field, `${field} must be a non-empty string`);
  }
  return value;
}
