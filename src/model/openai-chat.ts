/** OpenAI Chat Completions (`POST /v1/chat/completions`), JSON and streaming, with function calls. */
import type { ServerResponse } from 'node:http';
import type { Reply } from './script.js';
import { json, sse, sseStart, USAGE } from './sse.js';
import { callId, type OfferedTool } from './tools.js';

export interface ChatRequest {
  model?: string;
  stream?: boolean;
  tools?: { type?: string; function?: { name: string } }[];
  messages?: { role: string }[];
}

export function inspect(req: ChatRequest): { tools: OfferedTool[]; toolResults: number; stream: boolean } {
  return {
    tools: (req.tools ?? []).flatMap((t) => (t.function ? [{ name: t.function.name }] : [])),
    toolResults: (req.messages ?? []).filter((m) => m.role === 'tool').length,
    stream: req.stream === true,
  };
}

export function respond(res: ServerResponse, req: ChatRequest, reply: Reply, stream: boolean): void {
  const id = callId('chatcmpl');
  const created = Math.floor(Date.now() / 1000);
  const model = req.model ?? 'corral-scripted';
  const usage = {
    prompt_tokens: USAGE.input,
    completion_tokens: USAGE.output,
    total_tokens: USAGE.input + USAGE.output,
  };
  const toolCall =
    reply.kind === 'tool'
      ? {
          id: callId('call'),
          type: 'function',
          function: { name: reply.name, arguments: JSON.stringify(reply.input) },
        }
      : undefined;
  const text = reply.kind === 'text' ? reply.text : (reply.say ?? null);
  const finish_reason = toolCall ? 'tool_calls' : 'stop';
  if (!stream) {
    json(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, ...(toolCall ? { tool_calls: [toolCall] } : {}) },
          finish_reason,
        },
      ],
      usage,
    });
    return;
  }
  const chunk = (
    delta: Record<string, unknown>,
    finish: string | null,
    extra: Record<string, unknown> = {},
  ) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  });
  sseStart(res);
  sse(res, chunk({ role: 'assistant', content: '' }, null));
  if (text) sse(res, chunk({ content: text }, null));
  if (toolCall) sse(res, chunk({ tool_calls: [{ index: 0, ...toolCall }] }, null));
  sse(res, chunk({}, finish_reason, { usage }));
  sse(res, '[DONE]');
  res.end();
}
