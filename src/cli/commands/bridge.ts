/** `corral bridge serve`: the detached run's bridge process (hidden; `corral run -d` starts it). */
import { Command } from 'commander';
import { serveDetachedBridge } from '../../core/index.js';

export function bridgeCommand(): Command {
  const bridge = new Command('bridge').description('the host bridge of detached runs (internal)');
  bridge.addCommand(
    new Command('serve')
      .description('serve one detached session (started by `corral run -d`)')
      .action(async () => {
        // Nothing may keep a finished bridge process alive (a stray timer, a socket).
        process.exit(await serveDetachedBridge());
      }),
  );
  return bridge;
}
