/** The Docker Engine API's shapes: request bodies from corral's types, and responses into them. */
import type Docker from 'dockerode';
import { dockerRuntime } from './runtimes.js';
import type {
  ContainerDetails,
  ContainerSpec,
  ContainerSummary,
  EngineInfo,
  ExecOptions,
  ImageSummary,
} from './types.js';

/** The Docker Engine API's container-create body for an engine-neutral ContainerSpec. */
export function createBody(spec: ContainerSpec) {
  return {
    Image: spec.image,
    Cmd: spec.cmd,
    Entrypoint: spec.entrypoint,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    User: spec.user,
    WorkingDir: spec.workdir,
    Tty: spec.tty,
    OpenStdin: spec.openStdin,
    ExposedPorts: Object.fromEntries((spec.ports ?? []).map((p) => [`${p.containerPort}/tcp`, {}])),
    StdinOnce: spec.openStdin && (spec.stdinOnce ?? true),
    AttachStdin: spec.openStdin,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      Mounts: spec.mounts.map((m) => ({
        Type: m.type,
        Source: m.source,
        Target: m.target,
        ReadOnly: m.readOnly ?? false,
      })),
      CapDrop: spec.capDrop,
      CapAdd: spec.capAdd,
      SecurityOpt: spec.noNewPrivileges ? ['no-new-privileges'] : [],
      PidsLimit: spec.pidsLimit,
      Memory: spec.memoryBytes,
      NetworkMode: spec.network,
      PortBindings: Object.fromEntries(
        (spec.ports ?? []).map((p) => [
          `${p.containerPort}/tcp`,
          [{ HostIp: p.hostIp, HostPort: String(p.hostPort) }],
        ]),
      ),
      ExtraHosts: spec.extraHosts,
      ...(spec.sysctls ? { Sysctls: spec.sysctls } : {}),
      AutoRemove: spec.autoRemove ?? false,
      Init: true,
      ...(dockerRuntime(spec.isolation) ? { Runtime: dockerRuntime(spec.isolation) } : {}),
    },
    ...(spec.network && spec.networkAliases?.length
      ? { NetworkingConfig: { EndpointsConfig: { [spec.network]: { Aliases: spec.networkAliases } } } }
      : {}),
  };
}

/** The exec-create body: one command in a running container. */
export function execBody(cmd: string[], opts: ExecOptions) {
  return {
    Cmd: cmd,
    AttachStdin: opts.stdin ?? false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: opts.tty ?? false,
    User: opts.user,
    WorkingDir: opts.workdir,
    Env: opts.env ? Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) : undefined,
  };
}

export interface DockerInfo {
  ServerVersion: string;
  DefaultRuntime: string;
  CgroupVersion?: string;
  SecurityOptions?: string[];
}

export function toEngineInfo(i: DockerInfo): EngineInfo {
  return {
    version: i.ServerVersion,
    runtime: i.DefaultRuntime,
    cgroupVersion: `v${(i.CgroupVersion ?? '1').replace(/^v/, '')}`,
    rootless: (i.SecurityOptions ?? []).some((o) => o.includes('rootless')),
  };
}

export function toImageSummary(i: Docker.ImageInfo): ImageSummary {
  return {
    id: i.Id,
    tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
    labels: i.Labels ?? {},
    size: i.Size,
    created: i.Created,
  };
}

export function toDetails(c: Docker.ContainerInspectInfo): ContainerDetails {
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    image: c.Config.Image,
    state: c.State.Status,
    status: c.State.Status,
    labels: c.Config.Labels ?? {},
    created: Date.parse(c.Created) / 1000,
    ports: Object.entries(c.HostConfig.PortBindings ?? {}).flatMap(([k, v]) =>
      ((v as { HostIp: string; HostPort: string }[] | null) ?? []).map((b) => ({
        hostIp: b.HostIp,
        hostPort: Number(b.HostPort),
        containerPort: Number.parseInt(k, 10),
      })),
    ),
    running: c.State.Running,
    exitCode: c.State.ExitCode,
    user: c.Config.User,
    tty: c.Config.Tty,
    networks: Object.fromEntries(
      Object.entries(c.NetworkSettings?.Networks ?? {}).map(([name, n]) => [name, { ip: n.IPAddress }]),
    ),
  };
}

export function toSummary(c: Docker.ContainerInfo): ContainerSummary {
  return {
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    image: c.Image,
    state: c.State,
    status: c.Status,
    labels: c.Labels ?? {},
    created: c.Created,
    ports: (c.Ports ?? [])
      .filter((p) => p.PublicPort)
      .map((p) => ({ hostIp: p.IP ?? '', hostPort: p.PublicPort, containerPort: p.PrivatePort })),
  };
}
