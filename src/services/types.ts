/** A service container as corral sees it: what was asked for, and what runs. */
import type { Isolation } from '../engine/index.js';

export interface ServiceRequest {
  /** Short name the sandbox reaches it by (`postgres`). */
  name: string;
  image: string;
  /** Passed to the container; only the keys are ever shown or logged. */
  env: Record<string, string>;
  /** Ports it listens on; default: the image's EXPOSE'd ports. */
  ports?: number[];
  /** Its OCI runtime; default: its session's sandbox's (the bridge starts services mid-session). */
  isolation?: Isolation;
}

export interface ServiceInfo {
  name: string;
  image: string;
  /** running, exited, … as the engine says. */
  state: string;
  ports: number[];
  /** Its loopback address inside the workspace's sandboxes. */
  address: string;
  envKeys: string[];
  /** The corral session that started it. */
  session: string;
  /**
   * agent: started through the bridge, it stops when its session ends. config: from `services:`,
   * shared by the workspace's sessions, it stops when the last of them ends.
   */
  origin: 'config' | 'agent';
  container: string;
  created: number;
}

/** The workspace-and-session-bound operations the host bridge offers the agent. */
export interface ServiceController {
  start(req: ServiceRequest): Promise<ServiceInfo>;
  stop(name: string): Promise<void>;
  list(): Promise<ServiceInfo[]>;
  logs(name: string, lines: number): Promise<string>;
}
