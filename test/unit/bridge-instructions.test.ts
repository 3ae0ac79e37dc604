/** What the agent is told about the host bridge, and how it reaches the agent's argv. */
import { describe, expect, it } from 'vitest';

describe('bridge instructions', () => {
  it('are appended to instructions already passed, else inserted after the command', async () => {
    const { resolveAgent } = await import('../../src/agents/index.js');
    const { bridgeInstructions, withBridgeInstructions } = await import('../../src/bridge/instructions.js');
    const claude = resolveAgent('claude');
    const text = bridgeInstructions('abc123');
    expect(text).toContain('.corral/commands/abc123/<id>/');
    expect(text).toContain("user's approval");
    // Refusals the agent's HTTP client hides (a CONNECT 403) are readable in a file it is told about.
    expect(text).toContain('/run/corral/gw/egress-denied.log');
    expect(withBridgeInstructions(claude, ['claude', '-p', 'hi'], text)).toEqual([
      'claude',
      '--append-system-prompt',
      text,
      '-p',
      'hi',
    ]);
    const both = withBridgeInstructions(
      claude,
      ['claude', '--append-system-prompt', 'From AGENTS.md', '-p', 'x'],
      text,
    );
    expect(both).toEqual(['claude', '--append-system-prompt', `From AGENTS.md\n\n${text}`, '-p', 'x']);
    // Agents without instructions args get them from the MCP server's own instructions instead.
    const codex = resolveAgent('codex');
    expect(withBridgeInstructions(codex, ['codex'], text)).toEqual(['codex']);
  });

  it('become a skill with front matter for Vibe, and plain text elsewhere', async () => {
    const { parse } = await import('yaml');
    const { bridgeInstructions, bridgeInstructionsFile } = await import('../../src/bridge/instructions.js');
    expect(bridgeInstructionsFile('.copilot/instructions/x.instructions.md', 's1')).toBe(
      bridgeInstructions('s1'),
    );
    const skill = bridgeInstructionsFile('.vibe/skills/corral-host-bridge/SKILL.md', 's1');
    const m = /^---\n([\s\S]*?)\n---\n\n([\s\S]*)$/.exec(skill);
    expect(m).not.toBeNull();
    const front = parse(m![1]!) as { name: string; description: string };
    expect(front.name).toBe('corral-host-bridge');
    expect(front.description).toContain('Host bridge (corral)');
    expect(front.description).toContain("user's approval");
    expect(m![2]).toContain(bridgeInstructions('s1'));
  });
});
