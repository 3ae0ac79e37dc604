/**
 * What every use-case needs, made once and passed in: the config (read once, for the workspace
 * the first call names), the engine (found once), the environment (given by the caller, never read
 * from process.env here) and the caller's events (notes, build progress, questions). The CLI makes
 * one per command; the daemon one per request or per workspace.
 */
import { type Config, type LoadedConfig, loadConfig } from '../config/index.js';
import { type ContainerEngine, connectEngine } from '../engine/index.js';
import type { SessionHost } from './bridge-host.js';
import type { CoreEvents } from './events.js';
import { findRemote } from './remotes.js';
import type { WarmSource } from './warm-pool.js';

export interface CoreOptions {
  /** The caller's environment: host env vars for `-e KEY`, CORRAL_* settings, keyring detection. */
  env: NodeJS.ProcessEnv;
  /** Where relative workdirs and the default workspace resolve from. */
  cwd: string;
  /** --config: the global config file (default: ~/.config/corral/config.yaml or env CORRAL_CONFIG). */
  configPath?: string | undefined;
  /** --engine: podman, docker or a socket URL (default: config, then detection). */
  engine?: string | undefined;
  /** --remote: a named remote engine (`corral remote add`); wins over --engine and the config. */
  remote?: string | undefined;
  events: CoreEvents;
  /**
   * This process outlives the sandboxes it starts (the daemon): detached runs' host bridges are
   * served here, not by a bridge process spawned for each (core/bridge-host.ts).
   */
  bridgeHost?: SessionHost | undefined;
  /** Where runs take warm sandboxes (the daemon's pool); default: the daemon's socket, if one runs. */
  warm?: WarmSource | undefined;
}

export class CoreContext {
  private loaded?: Promise<LoadedConfig>;
  private connected?: Promise<ContainerEngine>;

  constructor(readonly options: CoreOptions) {}

  get env(): NodeJS.ProcessEnv {
    return this.options.env;
  }

  get cwd(): string {
    return this.options.cwd;
  }

  get events(): CoreEvents {
    return this.options.events;
  }

  /** A line for the user (the CLI prints it on stderr; the daemon sends it as a notification). */
  note(text: string): void {
    this.options.events.note(text);
  }

  /** The merged config; the first call fixes the workspace whose `.corral.yaml` joins in. */
  async config(workspace?: string): Promise<Config> {
    return (await this.loadedConfig(workspace)).config;
  }

  loadedConfig(workspace?: string): Promise<LoadedConfig> {
    this.loaded ??= loadConfig({
      ...(this.options.configPath ? { path: this.options.configPath } : {}),
      ...(workspace ? { workspace } : {}),
      env: this.options.env,
    });
    return this.loaded;
  }

  async configPath(): Promise<string> {
    return (await this.loadedConfig()).path;
  }

  async engine(): Promise<ContainerEngine> {
    this.connected ??= this.config().then(async (c) => {
      const remote = this.options.remote ? await findRemote(this.options.remote) : undefined;
      const fromConfig = !remote && !this.options.engine && c.engine;
      return connectEngine(remote?.url ?? this.options.engine ?? c.engine, undefined, {
        kubernetes: c.kubernetes,
        remoteKind: remote?.engine,
        // For the message when it does not answer: the setting to fix is named.
        requestedBy: fromConfig
          ? this.env.CORRAL_ENGINE === c.engine
            ? 'CORRAL_ENGINE'
            : `the engine setting in ${await this.configPath()}`
          : undefined,
      });
    });
    return this.connected;
  }
}
