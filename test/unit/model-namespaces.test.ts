/**
 * Codex offers MCP tools inside Responses API `namespace` tools (`mcp__<server>`); the scripted
 * model names them `<namespace>__<tool>` and answers with a namespaced function call.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelServer, parseScript, startModelServer } from '../../src/model/index.js';

let server: ModelServer;
beforeAll(async () => {
  const script = await parseScript(
    'turns:\n  - tool: mcp__corral__run_command\n    input: { command: "echo hi" }\n  - text: Done.\n',
    'test',
  );
  server = await startModelServer({ script });
});
afterAll(() => server.close());

describe('OpenAI Responses namespaces', () => {
  it('calls a tool inside a namespace with its own name and the namespace', async () => {
    const tools = [
      { type: 'function', name: 'exec_command', parameters: {}, strict: false },
      {
        type: 'namespace',
        name: 'mcp__corral',
        description: 'Tools in the mcp__corral namespace.',
        tools: [{ type: 'function', name: 'run_command', parameters: {}, strict: false }],
      },
    ];
    const res = await fetch(`${server.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5-codex', input: 'go', tools }),
    });
    const body = (await res.json()) as OpenAI.Responses.Response;
    const call = body.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'run_command', namespace: 'mcp__corral' });
    expect(JSON.parse((call as { arguments: string }).arguments)).toEqual({ command: 'echo hi' });
  });

  it('leaves a top-level tool of that name alone', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'k' });
    const r = await client.responses.create({
      model: 'gpt-5-codex',
      input: 'go',
      tools: [{ type: 'function', name: 'mcp__corral__run_command', parameters: {}, strict: false }],
    });
    const call = r.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'mcp__corral__run_command' });
    expect(call).not.toHaveProperty('namespace');
  });
});
