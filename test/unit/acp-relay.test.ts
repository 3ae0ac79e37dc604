/** The ACP relay's pure parts: path mapping both ways, and errors instead of silence. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { toHost, toSandbox } from '../../src/core/acp/paths.js';
import { AcpRelay } from '../../src/core/acp/relay.js';

const M = { host: '/home/u/proj', sandbox: '/workspace' };

function collect(stream: PassThrough): () => unknown[] {
  let text = '';
  stream.on('data', (c: Buffer) => {
    text += c.toString();
  });
  return () =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('ACP path mapping', () => {
  it('maps the workspace path, paths under it and file URIs, and nothing else', () => {
    const msg = {
      cwd: '/home/u/proj',
      path: '/home/u/proj/src/a.ts',
      uri: 'file:///home/u/proj/b.md',
      other: '/home/u/project-two/x',
      text: 'see /home/u/proj/a.ts',
      list: ['/home/u/proj'],
    };
    expect(toSandbox(msg, M)).toEqual({
      cwd: '/workspace',
      path: '/workspace/src/a.ts',
      uri: 'file:///workspace/b.md',
      other: '/home/u/project-two/x',
      text: 'see /home/u/proj/a.ts',
      list: ['/workspace'],
    });
    expect(toHost({ locations: [{ path: '/workspace/a' }], x: '/workspaces' }, M)).toEqual({
      locations: [{ path: '/home/u/proj/a' }],
      x: '/workspaces',
    });
  });
});

describe('ACP relay', () => {
  it('relays both ways with paths mapped, and keeps its own requests’ answers from the agent', async () => {
    const editorIn = new PassThrough();
    const editorOut = new PassThrough();
    const fromRelay = collect(editorOut);
    const relay = new AcpRelay(editorIn, editorOut, M);
    const toAgent = collect(relay.agentIn);
    editorIn.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'session/new', params: { cwd: M.host } })}\n`,
    );
    relay.agentOut.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, result: { sessionId: 's1' } })}\n`);
    relay.agentOut.write('not json: a stray log line\n');
    await tick();
    expect(toAgent()).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'session/new', params: { cwd: '/workspace' } },
    ]);
    expect(fromRelay()).toEqual([{ jsonrpc: '2.0', id: 1, result: { sessionId: 's1' } }]);
    expect(relay.sessionId).toBe('s1');

    const asked = relay.request('session/request_permission', { sessionId: 's1', path: '/workspace/x' });
    await tick();
    const question = fromRelay().at(-1) as { id: string; params: { path: string } };
    expect(question.params.path).toBe('/home/u/proj/x');
    editorIn.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: question.id, result: { outcome: { outcome: 'cancelled' } } })}\n`,
    );
    expect((await asked).result).toEqual({ outcome: { outcome: 'cancelled' } });
    await tick();
    expect(toAgent()).toHaveLength(1);
  });

  it('answers open requests with a JSON-RPC error when the agent never answers', async () => {
    const editorIn = new PassThrough();
    const editorOut = new PassThrough();
    const fromRelay = collect(editorOut);
    const relay = new AcpRelay(editorIn, editorOut, M);
    setTimeout(
      () =>
        editorIn.write(`${JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'initialize', params: {} })}\n`),
      50,
    );
    await relay.failFirst('Not starting: a credential', { hint: 'corral scan' });
    expect(fromRelay()).toEqual([
      {
        jsonrpc: '2.0',
        id: 7,
        error: {
          code: -32603,
          message: 'initialize: Not starting: a credential',
          data: { hint: 'corral scan' },
        },
      },
    ]);
  });

  it('tells its listeners when the editor disconnects, and declines its own open questions', async () => {
    const editorIn = new PassThrough();
    const relay = new AcpRelay(editorIn, new PassThrough(), M);
    let ended = false;
    relay.onEditorEnd(() => {
      ended = true;
    });
    const asked = relay.request('x', {});
    editorIn.end();
    expect((await asked).error?.message).toContain('disconnected');
    expect(ended).toBe(true);
  });
});
