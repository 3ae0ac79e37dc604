/**
 * A model script: the turns the scripted model plays, in order. Which turn answers a request is
 * derived from the request alone (how many tool results it already carries), so the server keeps
 * no session state and any number of agents can replay the same script at once.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { describeIssues } from '../config/errors.js';
import { CorralError } from '../errors.js';

const TurnSchema = z.union([
  z.strictObject({ run: z.string().min(1), say: z.string().optional() }),
  z.strictObject({
    tool: z.string().min(1),
    input: z.record(z.string(), z.unknown()).default({}),
    say: z.string().optional(),
  }),
  z.strictObject({ text: z.string() }),
]);
export type Turn = z.infer<typeof TurnSchema>;

export const ScriptSchema = z.strictObject({
  /** Shown by `corral model serve`. */
  description: z.string().optional(),
  /** Answer for side requests that offer no tools (titles, summaries, quota checks). */
  side_text: z.string().default('OK'),
  turns: z.array(TurnSchema).min(1),
});
export type Script = z.infer<typeof ScriptSchema>;

export async function parseScript(text: string, source: string): Promise<Script> {
  const { parse } = (await import('yaml')).default;
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new CorralError(
      'MODEL_SCRIPT_INVALID',
      `Invalid YAML in model script ${source}: ${(e as Error).message}`,
    );
  }
  const result = ScriptSchema.safeParse(raw);
  if (!result.success) {
    throw new CorralError(
      'MODEL_SCRIPT_INVALID',
      `Invalid model script ${source}:\n  ${describeIssues(ScriptSchema, result.error).join('\n  ')}`,
      'Each turn is {run: "<shell command>"}, {tool: NAME, input: {...}}, or {text: "<final answer>"}.',
    );
  }
  return result.data;
}

export async function loadScript(path: string): Promise<Script> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CorralError(
      'MODEL_SCRIPT_INVALID',
      `Cannot read model script ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  return parseScript(text, path);
}

export type Reply =
  | { kind: 'text'; text: string; step: number | null }
  | { kind: 'tool'; name: string; input: Record<string, unknown>; say?: string; step: number };

/** The turn for a conversation that already holds `toolResults` tool results. */
export function turnFor(script: Script, toolResults: number): Turn | undefined {
  return script.turns[toolResults];
}

export function finalText(script: Script): string {
  const last = [...script.turns].reverse().find((t): t is { text: string } => 'text' in t);
  return last?.text ?? 'Done.';
}
