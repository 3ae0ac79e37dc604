/** OpenAI Responses API (`POST /v1/responses`), as Codex speaks it: streaming events and JSON. */
import type { ServerResponse } from 'node:http';
import type { Reply } from './script.js';
import { json, sse, sseStart, USAGE } from './sse.js';
import { callId, type OfferedTool } from './tools.js';

export interface ResponsesRequest {
  model?: string;
  stream?: boolean;
  /** Codex groups MCP tools in `namespace` tools (`mcp__<server>`) that hold function tools. */
  tools?: { type?: string; name?: string; tools?: { name?: string }[] }[];
  input?: string | { type?: string; role?: string }[];
}

const RESULT_TYPES = new Set(['function_call_output', 'custom_tool_call_output', 'local_shell_call_output']);

export function inspect(req: ResponsesRequest): {
  tools: OfferedTool[];
  toolResults: number;
  stream: boolean;
} {
  const tools = (req.tools ?? []).flatMap((t) =>
    t.name
      ? [{ name: t.name, type: t.type ?? 'function' }]
      : t.type === 'local_shell'
        ? [{ name: 'local_shell', type: 'local_shell' }]
        : [],
  );
  // A script names a namespaced tool `<namespace>__<tool>` (mcp__corral__run_command, as Claude
  // Code names the same MCP tool).
  for (const [name] of namespaced(req)) tools.push({ name, type: 'function' });
  const items = Array.isArray(req.input) ? req.input : [];
  return {
    tools,
    toolResults: items.filter((i) => RESULT_TYPES.has(i.type ?? '')).length,
    stream: req.stream === true,
  };
}

/** Flat script name → the namespace and name Codex expects back in the function call. */
function namespaced(req: ResponsesRequest): Map<string, { namespace: string; name: string }> {
  const out = new Map<string, { namespace: string; name: string }>();
  for (const t of req.tools ?? []) {
    if (t.type !== 'namespace' || !t.name) continue;
    for (const inner of t.tools ?? [])
      if (inner.name) out.set(`${t.name}__${inner.name}`, { namespace: t.name, name: inner.name });
  }
  return out;
}

function outputItems(reply: Reply, req: ResponsesRequest): Record<string, unknown>[] {
  const message = (text: string) => ({
    type: 'message',
    id: callId('msg'),
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text, annotations: [] }],
  });
  if (reply.kind === 'text') return [message(reply.text)];
  const say = reply.say ? [message(reply.say)] : [];
  if (reply.name === 'local_shell') {
    const cmd = (reply.input.command as string[] | undefined) ?? ['bash', '-lc', String(reply.input.command)];
    return [
      ...say,
      {
        type: 'local_shell_call',
        id: callId('lsh'),
        call_id: callId('call'),
        status: 'completed',
        action: { type: 'exec', command: cmd },
      },
    ];
  }
  const topLevel = (req.tools ?? []).some((t) => t.name === reply.name && t.type !== 'namespace');
  const ns = topLevel ? undefined : namespaced(req).get(reply.name);
  return [
    ...say,
    {
      type: 'function_call',
      id: callId('fc'),
      call_id: callId('call'),
      ...(ns ?? { name: reply.name }),
      arguments: JSON.stringify(reply.input),
      status: 'completed',
    },
  ];
}

export function respond(res: ServerResponse, req: ResponsesRequest, reply: Reply, stream: boolean): void {
  const output = outputItems(reply, req);
  const response = {
    id: callId('resp'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'completed',
    model: req.model ?? 'corral-scripted',
    output,
    usage: {
      input_tokens: USAGE.input,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: USAGE.output,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: USAGE.input + USAGE.output,
    },
  };
  if (!stream) {
    json(res, 200, response);
    return;
  }
  sseStart(res);
  let seq = 0;
  const ev = (type: string, body: Record<string, unknown>) =>
    sse(res, { type, sequence_number: seq++, ...body }, type);
  ev('response.created', { response: { ...response, status: 'in_progress', output: [] } });
  output.forEach((item, output_index) => {
    ev('response.output_item.added', { output_index, item: { ...item, status: 'in_progress' } });
    if (item.type === 'message') {
      const text = (item.content as { text: string }[])[0]!.text;
      ev('response.output_text.delta', { item_id: item.id, output_index, content_index: 0, delta: text });
      ev('response.output_text.done', { item_id: item.id, output_index, content_index: 0, text });
    } else if (item.type === 'function_call') {
      ev('response.function_call_arguments.delta', { item_id: item.id, output_index, delta: item.arguments });
      ev('response.function_call_arguments.done', {
        item_id: item.id,
        output_index,
        arguments: item.arguments,
      });
    }
    ev('response.output_item.done', { output_index, item });
  });
  ev('response.completed', { response });
  res.end();
}
