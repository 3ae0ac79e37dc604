// An xterm.js terminal that fills its box and reports its size when the box changes.
import { FitAddon } from '@xterm/addon-fit';
import { type ITerminalOptions, Terminal } from '@xterm/xterm';
import { useEffect, useRef } from 'react';

export const TERMINAL_OPTIONS: ITerminalOptions = {
  fontFamily: '"JetBrains Mono", ui-monospace, monospace',
  fontSize: 14,
  cursorBlink: true,
  scrollback: 5000,
  theme: { background: '#0d1117', foreground: '#e6edf3', cursor: '#7ee787', selectionBackground: '#264f78' },
};

export function XTerm({
  onReady,
  onResize,
  options,
  fit = true,
}: {
  onReady: (t: Terminal) => (() => void) | undefined;
  onResize?: (cols: number, rows: number) => void;
  options?: ITerminalOptions;
  /** Size the terminal to its box (a live TTY); off for a replay, which has its recorded size. */
  fit?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const readyRef = useRef(onReady);
  const resizeRef = useRef(onResize);
  resizeRef.current = onResize;
  const optionsRef = useRef(options);
  const fitRef = useRef(fit);

  useEffect(() => {
    const term = new Terminal({ ...TERMINAL_OPTIONS, ...optionsRef.current });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current!);
    const refit = () => {
      if (!fitRef.current) return;
      try {
        fit.fit();
      } catch {
        // Not laid out yet (zero size): the observer calls again once it is.
      }
    };
    term.onResize(({ cols, rows }) => resizeRef.current?.(cols, rows));
    const cleanup = readyRef.current(term);
    refit();
    resizeRef.current?.(term.cols, term.rows);
    const ro = new ResizeObserver(refit);
    ro.observe(box.current!);
    term.focus();
    return () => {
      ro.disconnect();
      cleanup?.();
      term.dispose();
    };
  }, []);

  return <div ref={box} className="xterm-box" data-testid="xterm" />;
}
