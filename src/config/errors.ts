/** Turn zod issues into messages that name the file, the key and what was expected. */
import type { z } from 'zod';
import { CorralError } from '../errors.js';

type AnySchema = z.ZodType;

/** The object keys the schema accepts at `path`, for "expected one of" hints. */
export function keysAt(schema: AnySchema, path: PropertyKey[]): string[] {
  let s: unknown = schema;
  const def = (x: unknown) => (x as { _zod: { def: Record<string, unknown> } })._zod.def;
  const unwrap = () => {
    for (
      let d = def(s);
      ['optional', 'default', 'prefault', 'nullable'].includes(d.type as string);
      d = def(s)
    ) {
      s = d.innerType;
    }
  };
  unwrap();
  for (const key of path) {
    const d = def(s);
    if (d.type === 'object') s = (d.shape as Record<string, unknown>)[String(key)];
    else if (d.type === 'record') s = d.valueType;
    else return [];
    if (!s) return [];
    unwrap();
  }
  const d = def(s);
  return d.type === 'object' ? Object.keys(d.shape as object) : [];
}

function keyPath(path: PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

export function describeIssues(schema: AnySchema, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const expected = keysAt(schema, issue.path);
      const keys = issue.keys.map((k) => keyPath([...issue.path, k])).join(', ');
      return `unknown key ${keys}${expected.length ? ` (expected one of: ${expected.join(', ')})` : ''}`;
    }
    const where = issue.path.length ? keyPath(issue.path) : '(top level)';
    return `${where}: ${issue.message}`;
  });
}

export function configError(source: string, schema: AnySchema, error: z.ZodError): CorralError {
  const lines = describeIssues(schema, error);
  return new CorralError(
    'CONFIG_INVALID',
    `Invalid config in ${source}:\n  ${lines.join('\n  ')}`,
    'Fix the key named above; `corral config --help` lists every key and its type.',
  );
}
