/**
 * The C relay yardstick for bench/gateway.mjs (`--paths crelay`): built from bench/relay.c with the
 * machine's C compiler, and its CPU time read from /proc, as it is not a Node child.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// Linux's USER_HZ, what /proc/<pid>/stat counts CPU time in.
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString() || 100);

/** CPU time and minor faults of a process that is not Node (the C relay), from /proc. */
export function procUsage(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // Fields from the 3rd on: minflt is the 10th, utime and stime the 14th and 15th, in clock ticks.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { cpuMs: (ticks * 1000) / CLOCK_TICKS, faults: Number(fields[7]) };
}

/** The C relay (bench/relay.c), built with the machine's C compiler; undefined if there is none. */
export async function cRelay(dir, upstreamPort) {
  const bin = join(dir, 'crelay');
  const cc = spawnSync(
    'cc',
    ['-O2', '-pthread', '-o', bin, fileURLToPath(new URL('relay.c', import.meta.url))],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  if (cc.status !== 0) {
    console.log(`crelay: skipped, no C compiler to build bench/relay.c (${cc.error?.message ?? cc.stderr})`);
    return undefined;
  }
  const proc = spawn(bin, [String(upstreamPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(createInterface({ input: proc.stdout }), 'line');
  return { proc, port: Number(line) };
}
