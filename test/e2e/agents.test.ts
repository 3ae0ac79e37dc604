/**
 * Real agent CLIs in real sandboxes, driven by corral's scripted model: each runs a shell tool that
 * writes a file into the workspace; the file's content and owner prove the whole path. Every agent
 * runs behind the egress gateway, so it cannot reach the internet, and its audit log proves it
 * talked to the model server and nothing else.
 */
import { readdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
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
  moreAgentsSkipped,
  TEST_ENGINES,
  testBuildSettings,
  unbuildableReason,
} from '../helpers/engines.js';

interface AgentCase {
  agent: string;
  /** Run flags beyond the prompt; `--yolo` where a headless run needs it to use tools at all. */
  flags: string[];
  /** How the workspace's AGENTS.md reaches the model. */
  instructions: string;
  /** Run only with CORRAL_TEST_MORE_AGENTS=1 (.ci/run sets it): image builds cost minutes. */
  more?: boolean;
  /** Hosts the CLI contacts whatever its settings say: the gateway must have denied them. */
  denied?: string[];
}

// Every agent with a custom endpoint (auggie has none: it talks only to Augment). Typical run
// time per engine, image built: claude, codex, pi 1.5–2 s; gemini, copilot, devstral 3–4 s; opencode 6 s.
const AGENTS: AgentCase[] = [
  { agent: 'claude', flags: ['--yolo'], instructions: 'corral passes it with --append-system-prompt' },
  { agent: 'codex', flags: [], instructions: 'reads AGENTS.md (its promptArgs bypass approvals)' },
  { agent: 'gemini', flags: ['--yolo'], instructions: 'endpoint settings add it to context.fileName' },
  // --auto (its --yolo) is a TUI option; headless `opencode run` allows its tools already.
  { agent: 'opencode', flags: [], instructions: 'reads AGENTS.md' },
  { agent: 'pi', flags: [], instructions: 'reads AGENTS.md (pi never asks)' },
  { agent: 'copilot', flags: ['--yolo'], instructions: 'reads AGENTS.md' },
  { agent: 'devstral', flags: ['--yolo'], instructions: 'reads AGENTS.md (--trust in its promptArgs)' },
  // Measured on 2 cores (image build per engine, then run): qwen 30 s + 15–18 s, cline 110 s +
  // 12–16 s, kilo 35 s + 48–57 s: about 6.5 minutes for both engines, so they run under
  // CORRAL_TEST_MORE_AGENTS=1.
  {
    agent: 'qwen',
    flags: ['--yolo'],
    instructions: 'endpoint settings add it to context.fileName',
    more: true,
  },
  // A prompt runs in act mode with every tool auto-approved.
  // Its PostHog client connects to data.cline.bot even with telemetryOptOut set.
  { agent: 'cline', flags: [], instructions: 'reads AGENTS.md', denied: ['data.cline.bot'], more: true },
  // An OpenCode fork: headless `kilo run` allows its tools.
  { agent: 'kilo', flags: [], instructions: 'reads AGENTS.md', more: true },
  // Not here: aider (text edit formats, no tool calls), hermes (endpoint unverified), crush and
  // codebuff (not installable here), auggie (no custom endpoint).
];

const PROMPT = 'Write result.txt as instructed.';

interface AuditEntry {
  host: string;
  port: number;
  method: string;
  path?: string;
  decision: string;
  status: number;
}

for (const kind of TEST_ENGINES) {
  describe(`real agents on ${kind}`, () => {
    let server: ModelServer;
    const marker = `e2e-${kind}-${Date.now()}`;
    const env = { CORRAL_ENGINE: kind };

    beforeAll(async () => {
      // No $(…) in the command: Gemini CLI refuses any shell command with command substitution.
      const script = await parseScript(
        `turns:\n  - say: Writing the result file.\n    run: id -u | sed "s/^/${marker} from /" > result.txt\n  - text: Wrote result.txt.\n`,
        'e2e script',
      );
      server = await startModelServer({
        host: '0.0.0.0',
        script,
        allow: isLocalOrContainerAddress,
        recordBodies: true,
      });
    });

    afterAll(async () => {
      await server?.close();
    });

    /** A fresh workspace with an AGENTS.md whose rule must reach the model. */
    async function workspace(agent: string): Promise<{ ws: string; rule: string }> {
      const ws = await realpath(await tempWorkspace(`corral-e2e-${agent}-`));
      await writeFile(join(ws, 'README.md'), '# e2e workspace\n');
      const rule = `house-rule-${marker}-${agent}`;
      await writeFile(join(ws, 'AGENTS.md'), `# Rules\nAlways follow ${rule}.\n`);
      return { ws, rule };
    }

    async function expectResultFile(ws: string): Promise<void> {
      // The sandbox user is uid 1000 inside; the file belongs to the host user outside.
      expect(await readFile(join(ws, 'result.txt'), 'utf8')).toBe(`${marker} from 1000\n`);
      expect((await stat(join(ws, 'result.txt'))).uid).toBe(process.getuid!());
    }

    for (const { agent, flags, instructions, denied = [], more } of AGENTS) {
      it.skipIf(Boolean(more && moreAgentsSkipped(agent)))(
        `${agent} runs the scripted shell tool behind the gateway, and talks to nothing but the model`,
        async (ctx) => {
          const engine = await engineFor(kind);
          // An image built earlier needs no registry; a missing one needs its registry (PyPI) to answer.
          const plan = await planAgentImage(
            resolveAgent(agent),
            resolveAgent(agent).install,
            testBuildSettings(),
          );
          const why =
            !(await engine.imageExists(plan.layers.at(-1)!.tag)) && (await unbuildableReason(agent));
          if (why) {
            console.warn(`[skip] ${agent} on ${kind}: ${why}`);
            ctx.skip(why);
          }
          await agentImage(engine, agent);
          const { ws, rule } = await workspace(agent);
          const before = server.requests.length;
          const started = Date.now();
          try {
            const r = await corral(
              ['run', agent, '--network', 'gateway', '--model-url', server.url, '--prompt', PROMPT, ...flags],
              { cwd: ws, env },
            );
            console.log(`${agent} on ${kind}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
            const served = server.requests.slice(before);
            if (r.code !== 0) console.error(r.stdout, r.stderr, served);
            expect(r.code).toBe(0);
            await expectResultFile(ws);
            // The agent asked for step 0 (the tool call) and then step 1 (after the tool result).
            expect(served.map((s) => s.step)).toEqual(expect.arrayContaining([0, 1]));
            // AGENTS.md reached the model in the agent's own request, and corral wrote nothing into
            // the workspace for it.
            expect(
              served.some((s) => s.body?.includes(rule)),
              `AGENTS.md: ${instructions}`,
            ).toBe(true);
            expect((await readdir(ws)).sort()).toEqual(['AGENTS.md', 'README.md', 'result.txt']);
            // The sandbox has no network but the gateway's, and the gateway let through only the model
            // server: no update checks, telemetry, plugin or catalogue downloads (denied ones are logged too).
            const log = await corral(['egress', 'log', '--json', '-n', '0'], { cwd: ws, env });
            const entries = log.stdout
              .trim()
              .split('\n')
              .filter(Boolean)
              .map((l) => JSON.parse(l) as AuditEntry);
            expect(entries.length).toBeGreaterThan(0);
            const others = entries.filter((e) => e.port !== server.port || e.decision !== 'allow');
            expect(others.filter((e) => !denied.includes(e.host) || e.decision === 'allow')).toEqual([]);
          } finally {
            await corral(['clean'], { cwd: ws, env });
          }
          // A cold image build (the first agent also builds the shared base layers) takes minutes.
        },
        600_000,
      );
    }

    it('claude with --network open writes the file too (no gateway in the path)', async () => {
      await agentImage(await engineFor(kind), 'claude');
      const { ws } = await workspace('claude-open');
      const r = await corral(
        ['run', 'claude', '--network', 'open', '--model-url', server.url, '--prompt', PROMPT, '--yolo'],
        { cwd: ws, env },
      );
      expect(r.stderr).toContain('--network open');
      if (r.code !== 0) console.error(r.stdout, r.stderr);
      expect(r.code).toBe(0);
      await expectResultFile(ws);
    });
  });
}
