/**
 * A run's brokered OAuth login (src/auth/): adopt a login found in the profile's volume, give the
 * sandbox the placeholder credentials file, and tell the gateway what to inject. Agents without an
 * `oauth` spec never load any of it.
 */
import type { AgentSpec } from '../../agents/types.js';
import type { Config } from '../../config/index.js';
import type { ContainerEngine } from '../../engine/index.js';
import type { BrokeredLogin } from '../../gateway/settings.js';
import type { SandboxSpec } from '../../sandbox/spec.js';
import { homeVolumeName } from '../../workspace/identity.js';
import type { CoreContext } from '../context.js';

export interface RunLoginPlan {
  brokered: BrokeredLogin[];
  /**
   * After an attached run: adopt a login the agent made in the sandbox (`/login`), read from the
   * exited sandbox (`container`, before it is removed) or else through a helper container.
   */
  afterRun: (container?: string) => Promise<void>;
}

const NONE: RunLoginPlan = { brokered: [], afterRun: async () => {} };

export async function planRunLogin(
  ctx: CoreContext,
  engine: ContainerEngine,
  agent: AgentSpec,
  spec: SandboxSpec,
  config: Config,
): Promise<RunLoginPlan> {
  await (await import('../../auth/migrate.js')).migrateLegacyHome(
    engine,
    spec.image,
    agent,
    spec.profile,
    (l) => ctx.note(l),
  );
  const oauth = agent.oauth;
  if (!oauth)
    return (await import('../../auth/login-files.js')).planFileLogin(engine, agent, spec, (l) => ctx.note(l));
  const auth = await import('../../auth/run.js');
  const profile = spec.profile;
  if (spec.network.mode !== 'gateway') {
    if (await auth.loginForRun(agent, profile, config)) {
      ctx.note(
        `corral: the ${agent.name} login of profile ${profile} is kept by corral and works behind the egress gateway only (--network gateway).`,
      );
    }
    return NONE;
  }
  const volume = homeVolumeName(spec.workspace, agent.name, profile);
  // A key or token from the environment is this run's credential: no OAuth login to look for.
  const keyed = spec.credentials.length > 0;
  const look = async (container?: string) => {
    // From the volume's folder when this machine has it: the exit no longer waits on the engine's archive.
    const onHost = await (await import('../../auth/volume-host.js')).readVolumeFileOnHost(
      engine,
      volume,
      oauth.file,
    );
    if (onHost) return onHost.text;
    const { readHomeFile, readVolumeFile } = await import('../../auth/volume.js');
    return container
      ? readHomeFile(engine, container, oauth.file)
      : readVolumeFile(engine, spec.image, volume, oauth.file);
  };
  const adopted = (how: string) =>
    ctx.note(
      `corral: moved the ${agent.name} login ${how} into corral's login store (profile ${profile}); the sandbox keeps a placeholder.`,
    );
  if (!keyed && (await auth.adoptFromLoginFiles(agent, profile)))
    adopted('kept as files (from before corral brokered it)');
  if (!keyed && (await auth.shouldLookInVolume(agent, profile)) && (await engine.volumeExists(volume))) {
    if (await auth.adopt(agent, profile, await look())) adopted('found in its state volume');
    else await auth.markVolumeChecked(agent, profile);
  }
  const login = await auth.loginForRun(agent, profile, config);
  if (login) {
    spec.files = { ...spec.files, [login.file.path]: login.file.content };
    return { brokered: [login.brokered], afterRun: async () => {} };
  }
  return {
    brokered: [],
    afterRun: async (container) => {
      if (keyed || spec.detached) return;
      if (await auth.adopt(agent, profile, await look(container).catch(() => undefined)))
        adopted('made in the sandbox');
    },
  };
}
