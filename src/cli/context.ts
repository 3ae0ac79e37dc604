/**
 * What every command needs, made lazily: the config (read once) and the engine (found once).
 * Commands get a Context and never read globals or process.argv themselves.
 */
import type { Command } from 'commander';
import { type Config, type LoadedConfig, loadConfig } from '../config/index.js';
import { type ContainerEngine, connectEngine } from '../engine/index.js';
import { processStdio, type Stdio } from '../sandbox/attach.js';

export interface GlobalOptions {
  engine?: string;
  config?: string;
  debug?: boolean;
}

export class Context {
  private loaded?: Promise<LoadedConfig>;
  private connected?: Promise<ContainerEngine>;
  readonly io: Stdio;

  constructor(
    readonly globals: GlobalOptions,
    readonly env: NodeJS.ProcessEnv = process.env,
    io?: Stdio,
  ) {
    this.io = io ?? processStdio();
  }

  static of(cmd: Command): Context {
    let root = cmd;
    while (root.parent) root = root.parent;
    return new Context(root.opts<GlobalOptions>());
  }

  /** The merged config; the first call fixes the workspace whose `.corral.yaml` joins in. */
  async config(workspace?: string): Promise<Config> {
    return (await this.loadedConfig(workspace)).config;
  }

  loadedConfig(workspace?: string): Promise<LoadedConfig> {
    this.loaded ??= loadConfig({
      ...(this.globals.config ? { path: this.globals.config } : {}),
      ...(workspace ? { workspace } : {}),
      env: this.env,
    });
    return this.loaded;
  }

  async configPath(): Promise<string> {
    await this.config();
    return (await this.loaded!).path;
  }

  async engine(): Promise<ContainerEngine> {
    this.connected ??= this.config().then((c) =>
      connectEngine(this.globals.engine ?? c.engine, undefined, { kubernetes: c.kubernetes }),
    );
    return this.connected;
  }

  /** A line for the user on stderr, so stdout stays clean for the agent's output and --json. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  print(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }
}
