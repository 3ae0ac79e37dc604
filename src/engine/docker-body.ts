import type { ContainerSpec } from './types.js';

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
      AutoRemove: spec.autoRemove ?? false,
      Init: true,
    },
  };
}
