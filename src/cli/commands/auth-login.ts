/**
 * `corral auth login <agent>`: the agent's own login, run in a sandbox on the profile (behind the
 * gateway, in an empty workspace so no project is exposed), with its OAuth callback ports forwarded
 * from the host's 127.0.0.1 while it runs. A brokered login is then moved into corral's store.
 */
import { mkdir, realpath } from 'node:fs/promises';
import { Command } from 'commander';
import { resolveAgent } from '../../agents/index.js';
import { dataFile } from '../../config/json-store.js';
import { CorralError } from '../../errors.js';
import { DEFAULT_PROFILE, homeVolumeName, validateProfile, workspaceIdOf } from '../../workspace/identity.js';
import { Context } from '../context.js';
import { start } from './run.js';

export function loginCommand(): Command {
  return new Command('login')
    .description(
      "run the agent's own login in a sandbox on a profile (callback ports forwarded from 127.0.0.1)",
    )
    .argument('<agent>', 'agent name or alias')
    .option('--profile <name>', 'profile to log in', DEFAULT_PROFILE)
    .action(async (name: string, opts: { profile: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const agent = resolveAgent(name);
      const profile = validateProfile(opts.profile);
      if (!agent.login) {
        throw new CorralError(
          'BAD_INPUT',
          `corral cannot start ${agent.displayName}'s login by itself.`,
          `Run \`corral run ${agent.name} --profile ${profile}\` and log in there (its login stays in the profile), or \`corral auth import ${agent.name}\`.`,
        );
      }
      const workdir = dataFile('auth/login-workspace');
      await mkdir(workdir, { recursive: true, mode: 0o700 });
      const auth = agent.oauth ? await import('../../auth/run.js') : undefined;
      const { authDir } = await import('../../auth/paths.js');
      const { readLogin } = await import('../../auth/store.js');
      const before = (await readLogin(authDir(agent.name, profile)))?.refreshToken;
      if (agent.login.callbackPorts.length) {
        ctx.note(
          `corral: forwarding 127.0.0.1:${agent.login.callbackPorts.join(', ')} to the sandbox for the login callback.`,
        );
      }
      const code = await start(ctx, {
        agent: agent.name,
        mode: 'shell',
        args: [...agent.command, ...agent.login.args],
        workdir,
        ports: agent.login.callbackPorts.map(String),
        profile,
        join: false,
        credentialCheck: false,
        network: 'gateway',
      });
      process.exitCode = code;
      if (!auth || !agent.oauth) return;
      // The run may have adopted it already (a profile with no login before); otherwise do it now.
      const after = (await readLogin(authDir(agent.name, profile)))?.refreshToken;
      if (after !== undefined && after !== before) return;
      const { readVolumeFile } = await import('../../auth/volume.js');
      const engine = await ctx.engine();
      const { ensureGatewayImage } = await import('../../images/gateway.js');
      const { buildSettings } = await import('../../sandbox/image.js');
      const image = await ensureGatewayImage(engine, buildSettings(await ctx.config()));
      const home = homeVolumeName({ id: workspaceIdOf(await realpath(workdir)) }, agent.name, profile);
      const text = await readVolumeFile(engine, image, home, agent.oauth.file);
      if (await auth.adopt(agent, profile, text)) {
        ctx.note(
          `corral: stored the new ${agent.name} login (profile ${profile}); sandboxes get a placeholder.`,
        );
      } else if (code === 0) {
        ctx.note(`corral: no new ${agent.name} login was saved in profile ${profile}.`);
      }
    });
}
