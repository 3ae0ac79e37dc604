/** Google's generateContent API (`:generateContent`, `:streamGenerateContent?alt=sse`), as Gemini CLI speaks it. */
import type { ServerResponse } from 'node:http';
import type { Reply } from './script.js';
import { json, sse, sseStart, USAGE } from './sse.js';
import type { OfferedTool } from './tools.js';

export interface GeminiRequest {
  tools?: { functionDeclarations?: { name: string }[] }[];
  contents?: { role?: string; parts?: Record<string, unknown>[] }[];
}

export function inspect(req: GeminiRequest): { tools: OfferedTool[]; toolResults: number } {
  const tools = (req.tools ?? []).flatMap((t) =>
    (t.functionDeclarations ?? []).map((f) => ({ name: f.name })),
  );
  const toolResults = (req.contents ?? []).reduce(
    (n, c) => n + (c.parts ?? []).filter((p) => p.functionResponse !== undefined).length,
    0,
  );
  return { tools, toolResults };
}

export function respond(res: ServerResponse, reply: Reply, stream: boolean, model: string): void {
  const parts =
    reply.kind === 'text'
      ? [{ text: reply.text }]
      : [
          ...(reply.say ? [{ text: reply.say }] : []),
          { functionCall: { name: reply.name, args: reply.input } },
        ];
  const body = {
    candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
    usageMetadata: {
      promptTokenCount: USAGE.input,
      candidatesTokenCount: USAGE.output,
      totalTokenCount: USAGE.input + USAGE.output,
    },
    modelVersion: model,
  };
  if (!stream) {
    json(res, 200, body);
    return;
  }
  sseStart(res);
  sse(res, body);
  res.end();
}
