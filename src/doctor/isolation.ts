/**
 * `corral doctor`: does the gVisor isolation level work on this engine? Proven by running `uname -r`
 * in a throwaway container on runsc, with the sandbox's hardening: gVisor's kernel answers 4.4.0,
 * whatever the host runs.
 */
import { PassThrough } from 'node:stream';
import type { Config } from '../config/schema.js';
import type { ContainerEngine } from '../engine/index.js';
import { runtimeArgs } from '../engine/index.js';
import { LABEL_IMAGE } from '../images/recipes.js';
import type { CheckResult } from './checks.js';

/** The kernel release gVisor reports (its syscall surface is modelled on Linux 4.4). */
export const GVISOR_KERNEL = '4.4.0';

export async function gvisorCheck(engine: ContainerEngine, config: Config): Promise<CheckResult> {
  const name = `isolation gvisor (${engine.kind})`;
  const wanted =
    config.isolation === 'gvisor' || Object.values(config.agents).some((a) => a.isolation === 'gvisor');
  const missing = (detail: string, fix: string): CheckResult => ({
    name,
    status: wanted ? 'fail' : 'info',
    detail: wanted ? detail : `${detail} (optional: only --isolation gvisor needs it)`,
    fix,
  });
  // Any of corral's own images will do (all Debian); the base is the smallest.
  const tags = (await engine.listImages([LABEL_IMAGE])).flatMap((i) => i.tags);
  const image = tags.find((t) => /corral\/base:/.test(t)) ?? tags[0];
  if (!image)
    return { name, status: 'info', detail: 'no corral image yet to try it in (the first run builds one)' };
  try {
    const out = await unameIn(engine, image);
    if (out.code === 0 && out.text.trim() === GVISOR_KERNEL)
      return {
        name,
        status: 'ok',
        detail: `works: uname -r says ${GVISOR_KERNEL} (${runtimeArgs(engine.kind, 'gvisor', 'none').join(' ')})`,
      };
    return missing(
      `a container on it ${out.code === 0 ? `says kernel ${out.text.trim()}, not gVisor's ${GVISOR_KERNEL}` : `failed: ${out.text.trim().slice(0, 200)}`}`,
      'Check `runsc --version`; ./scripts/setup installs and registers it.',
    );
  } catch (e) {
    return missing(
      (e as Error).message,
      (e as { hint?: string }).hint ?? './scripts/setup installs and registers it.',
    );
  }
}

async function unameIn(engine: ContainerEngine, image: string): Promise<{ code: number; text: string }> {
  const id = await engine.createContainer({
    name: `corral-doctor-gvisor-${process.pid}-${Date.now()}`,
    image,
    cmd: ['uname', '-r'],
    entrypoint: [],
    env: {},
    labels: { 'io.corral.managed': 'true', 'io.corral.role': 'doctor' },
    user: '1000:1000',
    workdir: '/',
    tty: false,
    openStdin: false,
    mounts: [],
    capDrop: ['ALL'],
    noNewPrivileges: true,
    network: 'none',
    isolation: 'gvisor',
  });
  try {
    await engine.startContainer(id);
    const code = await engine.wait(id);
    const logs = await engine.logs(id, {});
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => logs.once('end', r));
    engine.demux(logs, sink, sink);
    await ended;
    return { code, text: Buffer.concat(chunks).toString() };
  } finally {
    await engine.remove(id, { force: true }).catch(() => undefined);
  }
}
