/** The interactive list behind `corral commands/services/allowed`, driven by keystrokes. */
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { describe, expect, it } from 'vitest';
import { ListView, type ListViewSpec, widths } from '../../src/cli/tui/list-view.js';

const tick = (ms = 50) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await tick(20);
  if (!check()) throw new Error(`never happened: ${what}`);
}

describe('ListView', () => {
  it('moves, shows details, and runs a confirmed action on the selected row only after y', async () => {
    let rows = [
      { key: 'a1', cells: ['a1', 'running', 'npm test'] },
      { key: 'b2', cells: ['b2', 'running', 'sleep 60'] },
    ];
    const killed: string[] = [];
    const spec: ListViewSpec = {
      title: 'host commands',
      columns: ['ID', 'STATE', 'COMMAND'],
      load: async () => rows,
      detail: async (key) => `output of ${key}`,
      refreshMs: 50,
      actions: [
        {
          key: 'x',
          label: 'kill',
          confirm: true,
          run: async (key) => {
            killed.push(key);
            rows = rows.map((r) => (r.key === key ? { ...r, cells: [r.key, 'killed', r.cells[2]!] } : r));
            return `killed ${key}`;
          },
        },
      ],
    };
    const ui = render(createElement(ListView, { spec, columns: 80 }));
    const frame = () => ui.lastFrame() ?? '';
    await until(() => frame().includes('sleep 60'), 'rows shown');
    expect(frame()).toMatch(/ID +STATE +COMMAND/);

    ui.stdin.write('\u001B[B'); // down: b2
    await tick();
    ui.stdin.write('\r');
    await until(() => frame().includes('output of b2'), 'detail of the selected row');

    ui.stdin.write('x');
    await until(() => frame().includes('kill b2? y/n'), 'confirmation asked');
    ui.stdin.write('n');
    await until(() => frame().includes('cancelled'), 'cancelled');
    expect(killed).toEqual([]);

    ui.stdin.write('x');
    await until(() => frame().includes('kill b2? y/n'), 'asked again');
    ui.stdin.write('y');
    await until(() => frame().includes('killed b2'), 'action result shown');
    expect(killed).toEqual(['b2']);
    await until(() => /b2 +killed/.test(frame()), 'rows reloaded');
    ui.unmount();
  });

  it('shows control characters from rows as spaces, not terminal commands', async () => {
    const spec: ListViewSpec = {
      title: 't',
      columns: ['COMMAND'],
      load: async () => [{ key: 'k', cells: ['echo \u001B]0;pwned\u0007 hi'] }],
      actions: [],
    };
    const ui = render(createElement(ListView, { spec, columns: 60 }));
    await until(() => (ui.lastFrame() ?? '').includes('hi'), 'row shown');
    expect(ui.lastFrame()).not.toContain('\u001B]0;');
    ui.unmount();
  });

  it('gives the last column what the terminal has left', () => {
    expect(widths(['ID', 'COMMAND'], [{ key: 'a', cells: ['abc', 'x'.repeat(200)] }], 50)).toEqual([3, 43]);
  });
});
