/**
 * corral's top-level commands, in help order, each loaded only when it is used. Node spent tens of
 * milliseconds loading and building all ~40 commands (and the modules behind them) before any
 * command ran; `corral shell …` now loads the shell command's module and no other. The names and
 * aliases are listed here so the `corral <agent>` shortcut can tell a command from an agent without
 * loading any (test/unit/cli.test.ts checks them against the commands themselves).
 */
import type { Command } from 'commander';

export interface CommandEntry {
  /** The command's name, then its aliases. */
  names: string[];
  load: () => Promise<Command>;
  hidden?: boolean;
}

const auth = async (): Promise<Command> => {
  const [{ authCommand }, tokens] = await Promise.all([
    import('./commands/auth.js'),
    import('./commands/auth-token.js'),
  ]);
  const group = authCommand().description(
    'logins per agent and profile: login, import, list, logout, long-lived tokens, doctor',
  );
  tokens.addTokenCommands(group);
  tokens.addDoctorCommand(group);
  return group;
};

export const COMMANDS: CommandEntry[] = [
  { names: ['run'], load: async () => (await import('./commands/run.js')).runCommand() },
  { names: ['acp'], load: async () => (await import('./commands/run.js')).acpCommand() },
  { names: ['shell'], load: async () => (await import('./commands/run.js')).shellCommand() },
  { names: ['task'], load: async () => (await import('./commands/task.js')).taskCommand() },
  { names: ['session'], load: async () => (await import('./commands/chat-session.js')).chatSessionCommand() },
  { names: ['resume'], load: async () => (await import('./commands/worktree.js')).resumeCommand() },
  { names: ['worktree'], load: async () => (await import('./commands/worktree.js')).worktreeCommand() },
  { names: ['list', 'ls'], load: async () => (await import('./commands/lifecycle.js')).listCommand() },
  { names: ['stop'], load: async () => (await import('./commands/lifecycle.js')).stopCommand() },
  { names: ['attach'], load: async () => (await import('./commands/lifecycle.js')).attachCommand() },
  { names: ['exec'], load: async () => (await import('./commands/lifecycle.js')).execCommand() },
  { names: ['logs'], load: async () => (await import('./commands/lifecycle.js')).logsCommand() },
  { names: ['agents'], load: async () => (await import('./commands/agents.js')).agentsCommand() },
  { names: ['image'], load: async () => (await import('./commands/image.js')).imageCommand() },
  { names: ['update'], load: async () => (await import('./commands/image.js')).updateCommand() },
  { names: ['model'], load: async () => (await import('./commands/model.js')).modelCommand() },
  { names: ['provider'], load: async () => (await import('./commands/provider.js')).providerCommand() },
  { names: ['mcp'], load: async () => (await import('./commands/mcp.js')).mcpCommand() },
  { names: ['demo'], load: async () => (await import('./commands/demo.js')).demoCommand() },
  { names: ['init'], load: async () => (await import('./commands/init.js')).initCommand() },
  { names: ['egress'], load: async () => (await import('./commands/egress.js')).egressCommand() },
  { names: ['allowed'], load: async () => (await import('./commands/allowed.js')).allowedCommand() },
  { names: ['commands'], load: async () => (await import('./commands/commands.js')).commandsCommand() },
  { names: ['approvals'], load: async () => (await import('./commands/approvals.js')).approvalsCommand() },
  { names: ['scan'], load: async () => (await import('./commands/scan.js')).scanCommand() },
  { names: ['skills'], load: async () => (await import('./commands/skills.js')).skillsCommand() },
  { names: ['trust'], load: async () => (await import('./commands/trust.js')).trustCommand() },
  { names: ['untrust'], load: async () => (await import('./commands/trust.js')).untrustCommand() },
  { names: ['config'], load: async () => (await import('./commands/trust.js')).configCommand() },
  { names: ['mask'], load: async () => (await import('./commands/workspace.js')).maskCommand() },
  { names: ['unmask'], load: async () => (await import('./commands/workspace.js')).unmaskCommand() },
  { names: ['clean'], load: async () => (await import('./commands/workspace.js')).cleanCommand() },
  { names: ['doctor'], load: async () => (await import('./commands/doctor.js')).doctorCommand() },
  { names: ['sessions'], load: async () => (await import('./commands/sessions.js')).sessionsCommand() },
  { names: ['auth'], load: auth },
  { names: ['services'], load: async () => (await import('./commands/services.js')).servicesCommand() },
  { names: ['daemon'], load: async () => (await import('./commands/daemon.js')).daemonCommand() },
  { names: ['web'], load: async () => (await import('./commands/daemon.js')).webCommand() },
  { names: ['ssh-config'], load: async () => (await import('./commands/ssh.js')).sshConfigCommand() },
  { names: ['remote'], load: async () => (await import('./commands/remote.js')).remoteCommand() },
  { names: ['pull'], load: async () => (await import('./commands/remote.js')).pullCommand() },
  {
    names: ['bridge'],
    load: async () => (await import('./commands/bridge.js')).bridgeCommand(),
    hidden: true,
  },
];

/** The entry a word names (a command or an alias), if any. */
export const commandNamed = (word: string): CommandEntry | undefined =>
  COMMANDS.find((c) => c.names.includes(word));
