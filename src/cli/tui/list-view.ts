/**
 * One interactive list for `corral commands`, `corral services` and `corral allowed`: rows that
 * refresh on their own, a detail pane (a command's output, a service's logs) and a few single-key
 * actions, the destructive ones confirmed. Each screen is data (a ListViewSpec); this file is the
 * only one that knows about Ink. Written with createElement, not JSX, so the build needs no JSX step.
 */
import { Box, render, Text, useApp, useInput } from 'ink';
import { createElement as h, useCallback, useEffect, useRef, useState } from 'react';

export interface Row {
  key: string;
  cells: string[];
}

export interface Action {
  key: string;
  label: string;
  /** Ask "label <row>? y/n" first. */
  confirm?: boolean;
  /** Returns a line for the status bar. */
  run: (row: string) => Promise<string | undefined>;
}

export interface ListViewSpec {
  title: string;
  columns: string[];
  load: () => Promise<Row[]>;
  /** Text shown under the list for the selected row (Enter toggles it). */
  detail?: (row: string) => Promise<string>;
  actions: Action[];
  /** How often rows (and an open detail) reload. */
  refreshMs?: number;
  empty?: string;
}

function cell(text: string, width: number): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return clean.length > width ? `${clean.slice(0, Math.max(0, width - 1))}…` : clean.padEnd(width);
}

export function widths(columns: string[], rows: Row[], total: number): number[] {
  const w = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r.cells[i] ?? '').length)));
  // The last column takes what is left of the terminal, at least 10.
  const fixed = w.slice(0, -1).reduce((a, b) => a + b + 2, 0);
  w[w.length - 1] = Math.max(10, Math.min(w.at(-1) ?? 10, total - fixed - 2));
  return w;
}

export function ListView({ spec, columns = 100 }: { spec: ListViewSpec; columns?: number }) {
  const { exit } = useApp();
  const [rows, setRows] = useState<Row[] | undefined>();
  const [selected, setSelected] = useState(0);
  const [open, setOpen] = useState(false);
  const [detail, setDetail] = useState('');
  const [status, setStatus] = useState('');
  const [asking, setAsking] = useState<Action | undefined>();
  const current = rows?.[Math.min(selected, (rows?.length ?? 1) - 1)];
  // Keys can arrive before Ink re-registers the input handler after a render: the handler reads
  // what is on screen from here, never from a stale closure.
  const seen = useRef({ rows, current, asking });
  seen.current = { rows, current, asking };

  const reload = useCallback(async () => {
    try {
      setRows(await spec.load());
    } catch (e) {
      setStatus(`could not load: ${(e as Error).message}`);
    }
  }, [spec]);

  useEffect(() => {
    void reload();
    const t = setInterval(() => void reload(), spec.refreshMs ?? 1000);
    return () => clearInterval(t);
  }, [reload, spec.refreshMs]);

  const currentKey = current?.key;
  useEffect(() => {
    if (!open || currentKey === undefined || !spec.detail) return;
    let live = true;
    const show = () =>
      void spec.detail?.(currentKey).then(
        (text) => live && setDetail(text),
        (e: Error) => live && setDetail(`(${e.message})`),
      );
    show();
    const t = setInterval(show, spec.refreshMs ?? 1000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [open, currentKey, spec]);

  const act = async (action: Action, key: string) => {
    setAsking(undefined);
    setStatus(`${action.label} ${key}…`);
    try {
      setStatus((await action.run(key)) ?? `${action.label}: done`);
    } catch (e) {
      setStatus(`${action.label} failed: ${(e as Error).message}`);
    }
    await reload();
  };

  useInput((input, key) => {
    const { rows, current, asking } = seen.current;
    if (asking) {
      if (input === 'y' && current) void act(asking, current.key);
      else {
        setAsking(undefined);
        setStatus('cancelled');
      }
      return;
    }
    if (input === 'q' || key.escape || (key.ctrl && input === 'c')) return exit();
    const action = spec.actions.find((a) => a.key === input);
    if (action) {
      if (!current) return;
      if (action.confirm) setAsking(action);
      else void act(action, current.key);
      return;
    }
    const n = rows?.length ?? 0;
    if (key.upArrow || input === 'k') setSelected((s) => Math.max(0, Math.min(s, n - 1) - 1));
    else if (key.downArrow || input === 'j') setSelected((s) => Math.min(n - 1, s + 1));
    else if (key.return && spec.detail) setOpen((o) => !o);
    else if (input === 'r') void reload();
  });

  const w = widths(spec.columns, rows ?? [], columns);
  const line = (cells: string[]) => cells.map((c, i) => cell(c, w[i] ?? 10)).join('  ');
  const help = [
    '↑/↓ move',
    ...(spec.detail ? ['enter details'] : []),
    ...spec.actions.map((a) => `${a.key} ${a.label}`),
    'r refresh',
    'q quit',
  ].join(' · ');
  return h(
    Box,
    { flexDirection: 'column' },
    h(Text, { bold: true }, spec.title),
    h(Text, { dimColor: true }, line(spec.columns)),
    rows === undefined
      ? h(Text, null, 'loading…')
      : rows.length === 0
        ? h(Text, { dimColor: true }, spec.empty ?? 'nothing here')
        : rows.map((r) => h(Text, { key: r.key, inverse: r === current }, line(r.cells))),
    open && current
      ? h(Box, { borderStyle: 'single', flexDirection: 'column' }, h(Text, null, detail || ' '))
      : null,
    h(
      Text,
      { color: asking ? 'yellow' : undefined },
      asking && current ? `${asking.label} ${current.key}? y/n` : status || ' ',
    ),
    h(Text, { dimColor: true }, help),
  );
}

/** Full-screen list until the user quits. */
export async function runListView(spec: ListViewSpec): Promise<void> {
  const app = render(h(ListView, { spec, columns: process.stdout.columns ?? 100 }), { exitOnCtrlC: false });
  await app.waitUntilExit();
}
