/** `corral egress allow|deny|reset|show|log`: the workspace gateway's policy and its audit log. */
import { createReadStream, existsSync, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import type { AuditEntry } from '../../gateway/audit.js';
import { gatewayDirs, readGatewaySettings } from '../../gateway/folders.js';
import { GATEWAY_CONTAINER_PATHS as P } from '../../gateway/settings.js';
import { resolveWorkspace } from '../../workspace/identity.js';
import { Context } from '../context.js';
import { table } from '../table.js';

// Rule parsing uses zod: loaded when an egress subcommand runs, not on every corral start.
const rules = () => import('../../gateway/runtime-rules.js');
const policy = () => import('../../gateway/policy.js');

const workdir = (cmd: Command) =>
  cmd.option('-w, --workdir <dir>', 'workspace (default: the current folder)');

function ruleCommand(action: 'allow' | 'deny'): Command {
  return workdir(
    new Command(action)
      .description(
        `${action} a domain (example.com, *.example.com), host:port, or "METHOD host/path-prefix" for this workspace; applies to a running gateway at once`,
      )
      .argument('<rules...>', 'rules'),
  ).action(async (texts: string[], opts: { workdir?: string }, cmd: Command) => {
    const ctx = Context.of(cmd);
    const ws = await resolveWorkspace(opts.workdir ?? process.cwd());
    const { addRuntimeRule } = await rules();
    const { formatRule } = await policy();
    for (const text of texts) {
      const { rule, applied } = await addRuntimeRule(ws.id, action, text);
      const where = applied.length
        ? `applied to the running gateway (${applied.join(', ')})`
        : 'for the next run';
      ctx.note(`${action} ${formatRule(rule)}: ${where}`);
    }
  });
}

function formatBody(label: string, b: AuditEntry['requestBody']): string {
  if (!b) return '';
  if ('omitted' in b) return `\n  ${label}: not logged, ${b.omitted}`;
  const text = b.text.replace(/\r?\n$/, '').replace(/\n/g, '\n    ');
  return `\n  ${label}${b.truncated ? ' (first 64 KiB)' : ''}: ${text}`;
}

function formatEntry(e: AuditEntry): string {
  const target = `${e.host}:${e.port}${e.path ?? ''}`;
  const why = e.decision === 'allow' ? (e.rule ?? '') : (e.reason ?? '');
  const head = `${e.time}  ${e.decision.padEnd(5)} ${String(e.status).padEnd(3)} ${e.method} ${target}${why ? `  (${why})` : ''}`;
  return head + formatBody('request body', e.requestBody) + formatBody('response body', e.responseBody);
}

async function printLog(
  ctx: Context,
  path: string,
  opts: { follow?: boolean; denied?: boolean; json?: boolean; lines?: string },
): Promise<void> {
  const keep = (e: AuditEntry) => !opts.denied || e.decision !== 'allow';
  const show = (line: string) => {
    let e: AuditEntry;
    try {
      e = JSON.parse(line) as AuditEntry;
    } catch {
      return;
    }
    if (keep(e)) ctx.print(opts.json ? JSON.stringify(e) : formatEntry(e));
  };
  const lines: string[] = [];
  let offset = 0;
  if (existsSync(path)) {
    for await (const line of createInterface({ input: createReadStream(path) })) lines.push(line);
    offset = (await stat(path)).size;
  }
  const n = Number(opts.lines ?? 50);
  for (const line of n > 0 ? lines.slice(-n) : lines) show(line);
  if (!opts.follow) return;
  let partial = '';
  const readMore = async () => {
    const size = (await stat(path).catch(() => undefined))?.size ?? 0;
    if (size <= offset) return;
    const stream = createReadStream(path, { start: offset, end: size - 1, encoding: 'utf8' });
    offset = size;
    for await (const chunk of stream) partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) show(line);
  };
  let busy = Promise.resolve();
  watch(path.slice(0, path.lastIndexOf('/')), () => {
    busy = busy.then(readMore);
  });
  await new Promise(() => {}); // until Ctrl-C
}

export function egressCommand(): Command {
  const egress = new Command('egress').description("the workspace's egress gateway: rules and traffic log");
  egress.addCommand(ruleCommand('allow'));
  egress.addCommand(ruleCommand('deny'));
  egress.addCommand(
    workdir(new Command('reset').description('drop the rules added with `corral egress allow|deny`')).action(
      async (opts: { workdir?: string }, cmd: Command) => {
        const ws = await resolveWorkspace(opts.workdir ?? process.cwd());
        const before = await (await rules()).resetRuntimeRules(ws.id);
        Context.of(cmd).note(
          `dropped ${before.allow.length + before.deny.length} rule(s); a running gateway keeps them until the next run`,
        );
      },
    ),
  );
  egress.addCommand(
    workdir(new Command('show').description("the running gateway's policy"))
      .option('--json', 'print JSON')
      .action(async (opts: { workdir?: string; json?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const ws = await resolveWorkspace(opts.workdir ?? process.cwd());
        const settings = await readGatewaySettings((await ctx.engine()).kind, ws.id);
        if (!settings)
          return ctx.note('no gateway has run in this workspace (`corral run --network gateway`)');
        if (opts.json) return ctx.json(settings.policy);
        const { formatRule } = await policy();
        const rows = settings.policy.rules.map((r) => [r.action, formatRule(r), r.source]);
        ctx.print(await table(['ACTION', 'RULE', 'FROM'], rows));
        const ports = settings.policy.allowHostPorts;
        ctx.print(`host ports: ${ports.length ? ports.join(', ') : 'none'}`);
      }),
  );
  egress.addCommand(
    workdir(new Command('log').description('requests and connections through the gateway (secrets redacted)'))
      .option('-f, --follow', 'keep printing new entries')
      .option('--denied', 'only refused requests')
      .option('-n, --lines <n>', 'how many past entries (0: all)', '50')
      .option('--json', 'print JSON lines')
      .action(
        async (
          opts: { workdir?: string; follow?: boolean; denied?: boolean; json?: boolean; lines?: string },
          cmd: Command,
        ) => {
          const ctx = Context.of(cmd);
          const ws = await resolveWorkspace(opts.workdir ?? process.cwd());
          const path = join(gatewayDirs((await ctx.engine()).kind, ws.id).log, P.auditFile);
          if (!existsSync(path) && !opts.follow) return ctx.note('no gateway traffic in this workspace yet');
          await printLog(ctx, path, opts);
        },
      ),
  );
  return egress;
}
