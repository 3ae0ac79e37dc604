/**
 * The host bridge, end to end: each real agent CLI that speaks MCP over streamable HTTP, in a
 * sandbox behind the gateway, calls corral's MCP tool `run_command` (the scripted model asks it to,
 * by the name that agent gives the tool). Allowed beforehand, the command runs on the host in the
 * workspace and its output files appear; not allowed, it is refused and nothing runs.
 */
import { readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAgent } from '../../src/agents/index.js';
import { planAgentImage } from '../../src/images/build.js';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import {
  agentImage,
  engineFor,
  TEST_ENGINES,
  testBuildSettings,
  unbuildableReason,
} from '../helpers/engines.js';

const COMMAND = 'echo made-on-the-host > host-made.txt';

interface BridgeCase {
  agent: string;
  /** Run flags beyond the prompt: the agent's autonomy mode, so it calls MCP tools unasked. */
  flags: string[];
  /** The scripted model's tool call: the agent's name for run_command, and its input. */
  tool: string;
  input: Record<string, unknown>;
  /** Why the bridge cannot work for this agent; it is skipped, saying so. */
  unsupported?: string;
}

// Tool names are what each agent offers the model (recorded from its requests). Typical run time
// per engine, image built: codex, claude 1.5–2.5 s; gemini, copilot 3 s; opencode, devstral 5–6 s.
const CASES: BridgeCase[] = [
  { agent: 'claude', flags: ['--yolo'], tool: 'mcp__corral__run_command', input: { command: COMMAND } },
  // Codex groups MCP tools in a Responses API namespace, `mcp__corral`.
  { agent: 'codex', flags: [], tool: 'mcp__corral__run_command', input: { command: COMMAND } },
  { agent: 'gemini', flags: ['--yolo'], tool: 'mcp_corral_run_command', input: { command: COMMAND } },
  { agent: 'opencode', flags: [], tool: 'corral_run_command', input: { command: COMMAND } },
  { agent: 'copilot', flags: ['--yolo'], tool: 'corral-run_command', input: { command: COMMAND } },
  // Vibe 3 has MCP tools called from code, in its run_typescript tool.
  {
    agent: 'devstral',
    flags: ['--yolo'],
    tool: 'run_typescript',
    input: {
      code: `async function main() { return await tools.mcp_corral.run_command({ command: ${JSON.stringify(COMMAND)} }); }`,
    },
  },
  { agent: 'pi', flags: [], tool: '', input: {}, unsupported: 'pi has no MCP support (by design)' },
  {
    agent: 'auggie',
    flags: [],
    tool: '',
    input: {},
    unsupported: 'Auggie has no custom model endpoint, so the scripted model cannot drive it',
  },
];

/** A model server that asks for one tool call, then says it is done. */
async function modelServer(c: BridgeCase): Promise<ModelServer> {
  const script = await parseScript(
    [
      'turns:',
      `  - tool: ${c.tool}`,
      `    input: ${JSON.stringify(c.input)}`,
      '  - text: Asked the host.',
      '',
    ].join('\n'),
    `bridge script for ${c.agent}`,
  );
  return startModelServer({ host: '0.0.0.0', script, allow: isLocalOrContainerAddress, recordBodies: true });
}

for (const kind of TEST_ENGINES) {
  describe(`host bridge on ${kind}`, () => {
    const env = { CORRAL_ENGINE: kind };
    const run = (agent: string, server: ModelServer, ws: string, flags: string[]) =>
      corral(['run', agent, '--model-url', server.url, '--prompt', 'Ask the host.', ...flags], {
        cwd: ws,
        env,
      });

    for (const c of CASES) {
      it(`${c.agent} runs an allowed command on the host, in the workspace, with its output files`, async (ctx) => {
        if (c.unsupported) {
          console.warn(`[skip] bridge for ${c.agent} on ${kind}: ${c.unsupported}`);
          ctx.skip(c.unsupported);
        }
        const engine = await engineFor(kind);
        const agent = resolveAgent(c.agent);
        expect(agent.mcp, `${c.agent} has an MCP recipe`).toBeDefined();
        // An image built earlier needs no registry; a missing one needs its registry (PyPI) to answer.
        const plan = await planAgentImage(agent, agent.install, testBuildSettings());
        const why =
          !(await engine.imageExists(plan.layers.at(-1)!.tag)) && (await unbuildableReason(c.agent));
        if (why) {
          console.warn(`[skip] bridge for ${c.agent} on ${kind}: ${why}`);
          ctx.skip(why);
        }
        await agentImage(engine, c.agent);
        const server = await modelServer(c);
        const ws = await realpath(await tempWorkspace(`corral-e2e-bridge-${c.agent}-`));
        try {
          expect((await corral(['allowed', 'add', COMMAND], { cwd: ws, env })).code).toBe(0);
          const started = Date.now();
          const r = await run(c.agent, server, ws, c.flags);
          console.log(`bridge: ${c.agent} on ${kind}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
          if (r.code !== 0) console.error(r.stdout, r.stderr);
          expect(r.code).toBe(0);
          expect(r.stderr).not.toContain('refused a host command');
          expect(await readFile(join(ws, 'host-made.txt'), 'utf8')).toBe('made-on-the-host\n');
          const sessions = await readdir(join(ws, '.corral', 'commands'));
          expect(sessions).toHaveLength(1);
          const [id] = await readdir(join(ws, '.corral', 'commands', sessions[0]!));
          const dir = join(ws, '.corral', 'commands', sessions[0]!, id!);
          expect(await readFile(join(dir, 'command'), 'utf8')).toContain(COMMAND);
          expect((await readFile(join(dir, 'exit'), 'utf8')).trim()).toBe('0');
          // The model asked for the tool (step 0) and got its result back (step 1), which carries
          // the command's exit status.
          const served = server.requests;
          expect(served.map((s) => s.step)).toEqual(expect.arrayContaining([0, 1]));
          expect(served.find((s) => s.step === 1)?.body).toContain('exit');
          // The agent was told about the bridge: Claude in its system prompt (--append-system-prompt),
          // Copilot CLI by a user-level instructions file, Vibe by a user skill (its MCP client drops
          // the server's instructions), the others when their MCP client passes the server's
          // instructions on to the model (measured: Codex, Gemini CLI and OpenCode do).
          const told = served.some((s) => s.body?.includes('Host bridge (corral)'));
          console.log(`bridge: ${c.agent} on ${kind}: bridge instructions reached the model: ${told}`);
          if (['claude', 'codex', 'gemini', 'opencode', 'copilot', 'devstral'].includes(c.agent))
            expect(told).toBe(true);
        } finally {
          await server.close();
          await corral(['clean'], { cwd: ws, env });
        }
        // A cold image build takes minutes.
      }, 600_000);
    }

    describe('refusal', () => {
      let server: ModelServer;
      beforeAll(async () => {
        await agentImage(await engineFor(kind), 'claude');
        server = await modelServer(CASES[0]!);
      }, 600_000);
      afterAll(async () => {
        await server?.close();
      });

      it('refuses a command nobody allowed, and says how to allow it', async () => {
        const ws = await realpath(await tempWorkspace('corral-e2e-bridge-'));
        // Nobody answers: a short approval timeout stands in for the minute a person gets.
        const r = await corral(
          ['run', 'claude', '--model-url', server.url, '--prompt', 'Ask the host.', '--yolo'],
          {
            cwd: ws,
            env: { ...env, CORRAL_APPROVAL_TIMEOUT: '2' },
          },
        );
        expect(r.code).toBe(0);
        expect(r.stderr).toContain('refused a host command');
        expect(r.stderr).toContain(`corral allowed add '${COMMAND}'`);
        await expect(readFile(join(ws, 'host-made.txt'), 'utf8')).rejects.toThrow();
        await corral(['clean'], { cwd: ws, env });
      });

      it('runs a command nobody allowed once `corral approvals allow` approves it', async () => {
        const ws = await realpath(await tempWorkspace('corral-e2e-bridge-'));
        const before = server.requests.length;
        const running = run('claude', server, ws, ['--yolo']);
        // The run waits for an answer; the user gives it from another terminal.
        let id: string | undefined;
        for (let i = 0; !id && i < 300; i++) {
          const list = await corral(['approvals', '--json', '-w', ws], { cwd: ws, env });
          const pending = JSON.parse(list.stdout || '[]') as Array<{
            id: string;
            details: { command?: string };
          }>;
          if (pending[0]) {
            expect(pending[0].details.command).toBe(COMMAND);
            id = pending[0].id;
          } else await new Promise((res) => setTimeout(res, 100));
        }
        expect(id, 'an approval request appeared').toBeDefined();
        await expect(readFile(join(ws, 'host-made.txt'), 'utf8')).rejects.toThrow();
        const allow = await corral(['approvals', 'allow', id!], { cwd: ws, env });
        expect(allow.code, allow.stderr).toBe(0);
        const r = await running;
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toContain(`corral approvals allow ${id}`);
        expect(r.stderr).not.toContain('refused a host command');
        expect(await readFile(join(ws, 'host-made.txt'), 'utf8')).toBe('made-on-the-host\n');
        // Allowed once, not always.
        expect((await corral(['allowed', 'list', '--json'], { cwd: ws, env })).stdout.trim()).toBe('[]');
        // The model got the command's result back.
        expect(server.requests.slice(before).some((s) => s.step === 1 && s.body?.includes('exit_code'))).toBe(
          true,
        );
        await corral(['clean'], { cwd: ws, env });
      });
    });
  });
}
