/** Anthropic Messages API (`POST /v1/messages`), JSON and streaming SSE, with tool use. */
import type { ServerResponse } from 'node:http';
import type { Reply } from './script.js';
import { json, sse, sseStart, USAGE } from './sse.js';
import { callId, type OfferedTool } from './tools.js';

interface Block {
  type: string;
}
export interface MessagesRequest {
  model?: string;
  stream?: boolean;
  tools?: { name: string; type?: string }[];
  messages?: { role: string; content: string | Block[] }[];
}

export function inspect(req: MessagesRequest): {
  tools: OfferedTool[];
  toolResults: number;
  stream: boolean;
} {
  const toolResults = (req.messages ?? [])
    .filter((m) => m.role === 'user' && Array.isArray(m.content))
    .reduce((n, m) => n + (m.content as Block[]).filter((b) => b.type === 'tool_result').length, 0);
  return {
    tools: (req.tools ?? []).map((t) => ({ name: t.name })),
    toolResults,
    stream: req.stream === true,
  };
}

function blocks(reply: Reply): Record<string, unknown>[] {
  if (reply.kind === 'text') return [{ type: 'text', text: reply.text }];
  return [
    ...(reply.say ? [{ type: 'text', text: reply.say }] : []),
    { type: 'tool_use', id: callId('toolu'), name: reply.name, input: reply.input },
  ];
}

export function respond(res: ServerResponse, req: MessagesRequest, reply: Reply, stream: boolean): void {
  const content = blocks(reply);
  const stop_reason = reply.kind === 'tool' ? 'tool_use' : 'end_turn';
  const message = {
    id: callId('msg'),
    type: 'message',
    role: 'assistant',
    model: req.model ?? 'corral-scripted',
    content,
    stop_reason,
    stop_sequence: null,
    usage: { input_tokens: USAGE.input, output_tokens: USAGE.output },
  };
  if (!stream) {
    json(res, 200, message);
    return;
  }
  sseStart(res);
  sse(
    res,
    {
      type: 'message_start',
      message: {
        ...message,
        content: [],
        stop_reason: null,
        usage: { input_tokens: USAGE.input, output_tokens: 1 },
      },
    },
    'message_start',
  );
  content.forEach((block, index) => {
    if (block.type === 'text') {
      sse(
        res,
        { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
        'content_block_start',
      );
      sse(
        res,
        { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } },
        'content_block_delta',
      );
    } else {
      sse(
        res,
        { type: 'content_block_start', index, content_block: { ...block, input: {} } },
        'content_block_start',
      );
      sse(
        res,
        {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
        },
        'content_block_delta',
      );
    }
    sse(res, { type: 'content_block_stop', index }, 'content_block_stop');
  });
  sse(
    res,
    {
      type: 'message_delta',
      delta: { stop_reason, stop_sequence: null },
      usage: { output_tokens: USAGE.output },
    },
    'message_delta',
  );
  sse(res, { type: 'message_stop' }, 'message_stop');
  res.end();
}
