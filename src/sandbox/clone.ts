/**
 * `kubernetes.workspace: git`: the sandbox's workspace is a volume of the cluster holding a clone
 * of the workspace's `origin`, made inside the sandbox at its first start, after the forwarder and
 * before the agent: so the clone goes out through the workspace's gateway like any other traffic,
 * and its host must be allowed by the egress policy. Later starts find the clone and keep it; the
 * agent's work goes back the way it came (git push), not by `corral pull`.
 */
import { CorralError } from '../errors.js';
import { redactUrl } from '../git/remote.js';
import { git } from '../git/run.js';
import { WORKSPACE_DIR } from '../images/recipes.js';

export const CLONE_URL_ENV = 'CORRAL_CLONE_URL';

/** The workspace's `origin`, which the sandbox clones; refused if it carries a credential. */
export async function cloneSource(workspace: string, networkMode: string): Promise<string> {
  if (networkMode === 'none') {
    throw new CorralError(
      'BAD_INPUT',
      'kubernetes.workspace: git clones the workspace through the gateway, and --network none has none.',
      'Use --network gateway (with the git host allowed), or kubernetes.workspace: upload.',
    );
  }
  const r = await git(['remote', 'get-url', 'origin'], { cwd: workspace, timeoutMs: 10_000 });
  const url = r.code === 0 ? r.stdout.trim() : '';
  if (!url) {
    throw new CorralError(
      'WORKSPACE_INVALID',
      `kubernetes.workspace: git clones the workspace's origin, and ${workspace} has none.`,
      'Add one (git remote add origin URL), or use kubernetes.workspace: upload.',
    );
  }
  if (redactUrl(url) !== url) {
    throw new CorralError(
      'BAD_INPUT',
      `The workspace's origin (${redactUrl(url)}) carries a credential, which would go into the sandbox.`,
      'Give origin a URL without one; the gateway can add a token for its host (github: in the config).',
    );
  }
  return url;
}

/** The sandbox's start: clone into the (empty) workspace volume unless a clone is there already. */
export function cloneInit(): string[] {
  const w = WORKSPACE_DIR;
  return [
    `if [ ! -e ${w}/.git ]; then`,
    `  t=$(mktemp -d)`,
    `  git clone -q -- "$${CLONE_URL_ENV}" "$t/r" || { echo "corral: cloning $${CLONE_URL_ENV} through the gateway failed (is its host allowed?)" >&2; exit 1; }`,
    // Into the volume's root, which may hold files of its own (a node folder's record).
    `  cp -a "$t/r/." ${w}/ && rm -rf "$t"`,
    'fi',
    `unset ${CLONE_URL_ENV}`,
  ];
}
