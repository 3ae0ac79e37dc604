/** `corral egress allow|deny|reset|show|log`: the workspace gateway's policy and its audit log. */
import { Command } from 'commander';
import {
  type AuditEntry,
  addEgressRules,
  egressLog,
  egressPolicy,
  formatEgressRule,
  resetEgressRules,
} from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';

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
    for (const { rule, applied } of await addEgressRules(ctx, { ...opts, action, rules: texts })) {
      const where = applied.length
        ? `applied to the running gateway (${applied.join(', ')})`
        : 'for the next run';
      ctx.note(`${action} ${rule}: ${where}`);
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

export function egressCommand(): Command {
  const egress = new Command('egress').description("the workspace's egress gateway: rules and traffic log");
  egress.addCommand(ruleCommand('allow'));
  egress.addCommand(ruleCommand('deny'));
  egress.addCommand(
    workdir(new Command('reset').description('drop the rules added with `corral egress allow|deny`')).action(
      async (opts: { workdir?: string }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const dropped = await resetEgressRules(ctx, opts);
        ctx.note(`dropped ${dropped} rule(s); a running gateway keeps them until the next run`);
      },
    ),
  );
  egress.addCommand(
    workdir(new Command('show').description("the running gateway's policy"))
      .option('--json', 'print JSON')
      .action(async (opts: { workdir?: string; json?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const policy = await egressPolicy(ctx, opts);
        if (!policy) return ctx.note('no gateway has run in this workspace (`corral run --network gateway`)');
        if (opts.json) return ctx.json(policy);
        const rows = await Promise.all(
          policy.rules.map(async (r) => [r.action, await formatEgressRule(r), r.source]),
        );
        ctx.print(await table(['ACTION', 'RULE', 'FROM'], rows));
        const ports = policy.allowHostPorts;
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
          const n = Number(opts.lines ?? 50);
          // Following stops at Ctrl-C, which ends the process.
          const shown = await egressLog(ctx, { ...opts, lines: n }, (e) =>
            ctx.print(opts.json ? JSON.stringify(e) : formatEntry(e)),
          );
          if (!shown) ctx.note('no gateway traffic in this workspace yet');
        },
      ),
  );
  return egress;
}
