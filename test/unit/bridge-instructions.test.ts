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
});
