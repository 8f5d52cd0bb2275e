// What a message may carry: a kind from a fixed list and a body that is a plain JSON object, within a
// size measured as UTF-8 JSON (what is stored and shipped). Runs on every send, so it walks the body
// once, stops early on anything suspicious, and serialises it once.
import type { MessageBody, MessageKind } from './events.js';
import { domainError, type DomainError } from './errors.js';

export const MESSAGE_KINDS = ['text', 'image', 'file', 'custom'] as const satisfies readonly MessageKind[];

export const isMessageKind = (value: unknown): value is MessageKind => (MESSAGE_KINDS as readonly unknown[]).includes(value);

/** Deeper bodies are refused: no real message needs them, and they would cost a deep recursion. */
const MAX_DEPTH = 32;

const isPlainObject = (value: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * Checks that `body` is a plain JSON object (only null, booleans, finite numbers, strings, arrays and
 * plain objects inside) no larger than `maxBytes` as UTF-8 JSON.
 */
export function checkMessageBody(body: unknown, maxBytes: number): DomainError | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !isPlainObject(body)) {
    return domainError('invalid_body', { reason: 'not_an_object' });
  }
  // Every JSON value takes at least one byte, so counting values bounds the walk by the size limit.
  let valuesLeft = maxBytes;
  const shapeProblem = (value: unknown, depth: number): string | undefined => {
    if (--valuesLeft < 0) return 'too_large';
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return undefined;
      case 'number':
        return Number.isFinite(value) ? undefined : 'not_finite_number';
      case 'object': {
        if (value === null) return undefined;
        if (depth >= MAX_DEPTH) return 'too_deep';
        const children = Array.isArray(value) ? value : isPlainObject(value) ? Object.values(value) : undefined;
        if (children === undefined) return 'not_plain_json';
        for (const child of children) {
          const problem = shapeProblem(child, depth + 1);
          if (problem) return problem;
        }
        return undefined;
      }
      default:
        return 'not_plain_json';
    }
  };
  const problem = shapeProblem(body, 0);
  if (problem === 'too_large') return domainError('body_too_large', { maxBytes });
  if (problem) return domainError('invalid_body', { reason: problem });
  const bytes = utf8JsonSizeWithin(JSON.stringify(body), maxBytes);
  return bytes === undefined ? domainError('body_too_large', { maxBytes }) : undefined;
}

/** Kind-specific rules, once the body is known to be a plain JSON object. */
export function checkBodyForKind(kind: MessageKind, body: MessageBody): DomainError | undefined {
  if (kind === 'text' && (typeof body.text !== 'string' || body.text.length === 0)) {
    return domainError('invalid_body', { reason: 'text_required' });
  }
  return undefined;
}

/** The UTF-8 size of `json`, or undefined as soon as it is known to exceed `maxBytes`. */
export function utf8JsonSizeWithin(json: string, maxBytes: number): number | undefined {
  // A UTF-16 code unit takes 1 to 3 UTF-8 bytes (a surrogate pair, 2 units, takes 4).
  if (json.length > maxBytes) return undefined;
  if (json.length * 3 <= maxBytes) return utf8ByteLength(json);
  const bytes = utf8ByteLength(json);
  return bytes <= maxBytes ? bytes : undefined;
}

export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3; // includes a lone surrogate, which encoders replace with U+FFFD (3 bytes)
  }
  return bytes;
}

const isLowSurrogate = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff;
