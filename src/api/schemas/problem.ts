// The JSON Schema of a problem+json answer (RFC 9457 plus Missive's stable `code`), declared on every
// route for its 4xx and 5xx answers so OpenAPI documents them and the serializer keeps their fields.
import { Type } from '@sinclair/typebox';
import { JsonObject } from './primitives.js';

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'urn:missive:problem:<code>' }),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'Stable error code (see docs/api.md)' }),
    detail: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), { description: 'validation_failed only' })),
    resync: Type.Optional(Type.Object({ method: Type.Literal('GET'), path: Type.String() }, { description: 'resync_required only' })),
    details: Type.Optional(JsonObject('Domain specifics, e.g. the offending field')),
  },
  { title: 'Problem' },
);
