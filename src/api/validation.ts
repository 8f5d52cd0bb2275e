// Request validation with TypeBox's compiler instead of Fastify's default Ajv: bodies are checked
// exactly as sent (no type coercion, unknown fields rejected, nothing removed), while querystring and
// params, which are always strings on the wire, are first converted — strictly: "5" becomes 5, but
// "5.0", "0x5", " 5" or "1e3" stay strings and fail the check.
import type { FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** Route handlers see `Static<schema>` for params, query, body and replies. */
export interface TypeBoxProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
}

interface Issue {
  instancePath: string;
  message: string;
}

const MAX_REPORTED_ISSUES = 10;
const DECIMAL_INTEGER = /^(0|-?[1-9][0-9]{0,15})$/;
const DECIMAL_NUMBER = /^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,16})?$/;

function fromWire(propertySchema: { type?: unknown } | undefined, value: unknown): unknown {
  if (typeof value !== 'string' || !propertySchema) return value;
  switch (propertySchema.type) {
    case 'integer':
      return DECIMAL_INTEGER.test(value) ? Number(value) : value;
    case 'number':
      return DECIMAL_NUMBER.test(value) ? Number(value) : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    default:
      return value;
  }
}

/** Query strings and params are flat objects of strings: convert each to its property's declared type. */
function convertFlatObject(schema: TSchema, input: unknown): unknown {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties;
  if (!properties || input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  return Object.fromEntries(Object.entries(input).map(([key, value]) => [key, fromWire(properties[key], value)]));
}

export const typeBoxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  const convert = httpPart !== 'body';
  return (input: unknown) => {
    const value = convert ? convertFlatObject(schema, input) : input;
    try {
      if (check.Check(value)) return { value };
      const issues: Issue[] = [];
      for (const error of check.Errors(value)) {
        issues.push({ instancePath: error.path, message: error.message });
        if (issues.length >= MAX_REPORTED_ISSUES) break;
      }
      return { error: issues as unknown as Error };
    } catch (error) {
      // TypeBox walks some values recursively (uniqueItems hashes every element): a body nested
      // thousands of levels deep overflows the stack. No valid request is nested like that.
      if (error instanceof RangeError) return { error: [{ instancePath: '', message: 'The value is nested too deeply' }] as unknown as Error };
      throw error;
    }
  };
};
