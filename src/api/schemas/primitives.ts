// The JSON Schemas (TypeBox) of the values every route shares: ids, seqs, pages. The patterns are the
// domain's (src/domain/ids.ts), so a value the API accepts is one the domain can accept too.
import { FormatRegistry, Type, type TProperties, type TSchema } from '@sinclair/typebox';

const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const UUID_REGEX = new RegExp(UUID_PATTERN);
// TypeBox checks formats through its registry; `uuid` means the canonical lowercase form, as in the domain.
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (value) => UUID_REGEX.test(value));
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (value) => !Number.isNaN(Date.parse(value)));

export const USER_ID_PATTERN = '^[A-Za-z0-9_.@-]{1,64}$';

export const Uuid = (description: string) => Type.String({ format: 'uuid', pattern: UUID_PATTERN, description });
export const UserId = (description = 'A user id: 1 to 64 letters, digits and _ . @ -') =>
  Type.String({ pattern: USER_ID_PATTERN, minLength: 1, maxLength: 64, description });
export const ConversationId = Uuid('The conversation id (lowercase UUID)');
export const MessageId = Uuid('The message id (lowercase UUID)');
export const Seq = (description = 'A conversation sequence number (consecutive from 1)') =>
  Type.Integer({ minimum: 0, maximum: 2_147_483_647, description });
export const Timestamp = (description: string) => Type.String({ format: 'date-time', description });
export const JsonObject = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });
export const MessageKind = Type.Union([Type.Literal('text'), Type.Literal('image'), Type.Literal('file'), Type.Literal('custom')], {
  description: 'text | image | file | custom',
});
export const MemberRole = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')]);

/** A closed object: unknown fields are rejected, never silently dropped. */
export const Closed = <T extends TProperties>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });

export interface PageBounds {
  default: number;
  max: number;
}

export const Limit = (bounds: PageBounds) =>
  Type.Integer({ minimum: 1, maximum: bounds.max, default: bounds.default, description: `Page size, 1 to ${bounds.max} (default ${bounds.default})` });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ConversationParams = Closed({ id: ConversationId });
export const MessageParams = Closed({ id: ConversationId, messageId: MessageId });
export const MemberParams = Closed({ id: ConversationId, userId: UserId('The member') });
export const NoQuery = Closed({});
