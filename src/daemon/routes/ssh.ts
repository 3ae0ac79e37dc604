/** The SSH server for editors: started on demand by `corral ssh-config`. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { DaemonContext } from '../app.js';

const SshInfo = z
  .object({
    port: z.number(),
    hostKey: z.string(),
    identityFile: z.string(),
    sandboxes: z.array(z.object({ name: z.string(), agent: z.string(), workspacePath: z.string() })),
  })
  .openapi('SshInfo');

export function sshRoutes(app: OpenAPIHono, d: DaemonContext): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/ssh',
      responses: {
        200: {
          content: { 'application/json': { schema: SshInfo } },
          description: 'the SSH server (started if it was not) and the sandboxes it serves',
        },
      },
    }),
    async (c) => c.json(await d.uc.ssh(), 200),
  );
}
