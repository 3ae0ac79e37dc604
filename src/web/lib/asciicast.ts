// asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): a JSON header line, then one
// [time, code, data] array per line. We replay only output ("o") and resizes ("r").
export interface Cast {
  width: number;
  height: number;
  frames: { t: number; kind: 'o' | 'r'; data: string }[];
  duration: number;
}

export function parseCast(text: string): Cast {
  const lines = text.split('\n').filter((l) => l.trim());
  if (lines.length === 0) throw new Error('The transcript is empty.');
  let header: { version?: number; width?: number; height?: number };
  try {
    header = JSON.parse(lines[0]!);
  } catch {
    throw new Error('The transcript has no asciicast header line.');
  }
  if (header.version !== 2)
    throw new Error(`Unsupported asciicast version ${String(header.version)} (expected 2).`);
  const frames: Cast['frames'] = [];
  for (const line of lines.slice(1)) {
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      // A recording cut off mid-line (the sandbox was killed): play what is whole.
      continue;
    }
    if (!Array.isArray(ev) || typeof ev[0] !== 'number' || typeof ev[2] !== 'string') continue;
    if (ev[1] === 'o' || ev[1] === 'r') frames.push({ t: ev[0], kind: ev[1], data: ev[2] });
  }
  return {
    width: header.width ?? 80,
    height: header.height ?? 24,
    frames,
    duration: frames.at(-1)?.t ?? 0,
  };
}

/**
 * Plays a cast into `write` with its timing (times `speed`, idle gaps capped at `maxIdle` seconds).
 * Returns a stop function.
 */
export function play(
  cast: Cast,
  out: { write(data: string): void; resize(cols: number, rows: number): void },
  opts: { speed: number; maxIdle: number; onProgress?: (t: number) => void; onDone?: () => void },
): () => void {
  let i = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = 0;
  const step = () => {
    if (stopped) return;
    // Write every frame that is due in one go: terminal output often comes in bursts.
    do {
      const f = cast.frames[i++]!;
      if (f.kind === 'o') out.write(f.data);
      else {
        const [c, r] = f.data.split('x').map(Number);
        if (c && r) out.resize(c, r);
      }
      last = f.t;
    } while (i < cast.frames.length && cast.frames[i]!.t - last <= 0.001);
    opts.onProgress?.(last);
    if (i >= cast.frames.length) return opts.onDone?.();
    const gap = Math.min(cast.frames[i]!.t - last, opts.maxIdle);
    timer = setTimeout(step, (gap * 1000) / opts.speed);
  };
  if (cast.frames.length) timer = setTimeout(step, 0);
  else opts.onDone?.();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
