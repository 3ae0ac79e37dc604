/** The scripted model server, driven by the providers' official SDKs over loopback. */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorralError } from '../../src/errors.js';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';

const SCRIPT = await parseScript(
  'turns:\n  - run: echo hi > a.txt\n    say: Writing.\n  - text: All done.\n',
  'test',
);

let server: ModelServer;
beforeAll(async () => {
  server = await startModelServer({ script: SCRIPT });
});
afterAll(() => server.close());

describe('Anthropic Messages', () => {
  const client = () => new Anthropic({ baseURL: server.url, apiKey: 'k' });
  const tools = [
    { name: 'Bash', description: 'run', input_schema: { type: 'object' as const, properties: {} } },
  ];

  it('streams a Bash tool_use, then the final text after a tool_result', async () => {
    const first = await client()
      .messages.stream({ model: 'm', max_tokens: 100, tools, messages: [{ role: 'user', content: 'go' }] })
      .finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    expect(use).toMatchObject({ name: 'Bash', input: { command: 'echo hi > a.txt' } });
    expect(first.content[0]).toMatchObject({ type: 'text', text: 'Writing.' });
    const second = await client().messages.create({
      model: 'm',
      max_tokens: 100,
      tools,
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: use!.type === 'tool_use' ? use!.id : '', content: 'ok' },
          ],
        },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content).toEqual([{ type: 'text', text: 'All done.' }]);
  });

  it('answers side requests without tools with text and does not advance', async () => {
    const before = server.requests.length;
    const r = await client().messages.create({
      model: 'm',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'title?' }],
    });
    expect(r.content[0]).toMatchObject({ type: 'text' });
    expect(server.requests.slice(before).map((x) => x.step)).toEqual([null]);
  });

  it('counts tokens', async () => {
    const r = await client().messages.countTokens({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(r.input_tokens).toBeGreaterThan(0);
  });
});

describe('OpenAI Responses', () => {
  it('streams a shell function call with argv, then text after its output', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'k' });
    const tools = [{ type: 'function' as const, name: 'shell', parameters: {}, strict: false }];
    const stream = await client.responses.create({ model: 'gpt-5-codex', input: 'go', tools, stream: true });
    let done: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) if (ev.type === 'response.completed') done = ev.response;
    const call = done!.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'shell' });
    expect(JSON.parse((call as { arguments: string }).arguments)).toEqual({
      command: ['bash', '-lc', 'echo hi > a.txt'],
    });
    const second = await client.responses.create({
      model: 'gpt-5-codex',
      tools,
      input: [
        { role: 'user', content: 'go' },
        { type: 'function_call_output', call_id: (call as { call_id: string }).call_id, output: 'ok' },
      ],
    });
    expect(second.output_text).toBe('All done.');
  });
});

describe('OpenAI Chat Completions', () => {
  it('streams a bash tool call, then text after the tool message', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'k' });
    const tools = [{ type: 'function' as const, function: { name: 'bash', parameters: {} } }];
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'go' }],
      tools,
      stream: true,
    });
    let args = '';
    let name = '';
    let finish = '';
    for await (const chunk of stream) {
      const c = chunk.choices[0]!;
      for (const t of c.delta.tool_calls ?? []) {
        name += t.function?.name ?? '';
        args += t.function?.arguments ?? '';
      }
      finish = c.finish_reason ?? finish;
    }
    expect(name).toBe('bash');
    expect(JSON.parse(args)).toEqual({ command: 'echo hi > a.txt' });
    expect(finish).toBe('tool_calls');
    const second = await client.chat.completions.create({
      model: 'm',
      tools,
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'bash', arguments: args } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
    });
    expect(second.choices[0]!.message.content).toBe('All done.');
  });
});

describe('Gemini generateContent', () => {
  it('returns a run_shell_command function call, then text after the function response', async () => {
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: server.url } });
    const config = { tools: [{ functionDeclarations: [{ name: 'run_shell_command', parameters: {} }] }] };
    const first = await ai.models.generateContent({ model: 'gemini-2.5-pro', contents: 'go', config });
    expect(first.functionCalls?.[0]).toMatchObject({
      name: 'run_shell_command',
      args: { command: 'echo hi > a.txt' },
    });
    const second = await ai.models.generateContent({
      model: 'gemini-2.5-pro',
      config,
      contents: [
        { role: 'user', parts: [{ text: 'go' }] },
        { role: 'model', parts: [{ functionCall: first.functionCalls![0]! }] },
        {
          role: 'user',
          parts: [{ functionResponse: { name: 'run_shell_command', response: { output: 'ok' } } }],
        },
      ],
    });
    expect(second.text).toBe('All done.');
  });
});

describe('scripts and access', () => {
  it('names the file and the bad key in script errors', async () => {
    const err = (await parseScript('turns:\n  - rnu: ls\n', 'my-script.yaml').catch(
      (e: unknown) => e,
    )) as CorralError;
    expect(err).toBeInstanceOf(CorralError);
    expect(err.code).toBe('MODEL_SCRIPT_INVALID');
    expect(err.message).toContain('my-script.yaml');
    expect(err.message).toMatch(/turns\[0\]/);
  });

  it('answers only loopback and container-network addresses', () => {
    for (const ok of [
      '127.0.0.1',
      '::1',
      '::ffff:127.0.0.1',
      '10.88.0.5',
      '172.17.0.2',
      '192.168.1.9',
      'fd00::1',
    ]) {
      expect(isLocalOrContainerAddress(ok)).toBe(true);
    }
    for (const bad of ['192.0.2.2', '8.8.8.8', '172.32.0.1', '::ffff:203.0.113.5', '2001:db8::1']) {
      expect(isLocalOrContainerAddress(bad)).toBe(false);
    }
  });

  it('refuses requests the allow filter rejects', async () => {
    const closed = await startModelServer({ script: SCRIPT, allow: () => false });
    try {
      const res = await fetch(`${closed.url}/health`);
      expect(res.status).toBe(403);
    } finally {
      await closed.close();
    }
  });
});
