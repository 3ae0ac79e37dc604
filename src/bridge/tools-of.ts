/**
 * Which workspace files decide what a host tool does, per tool: `npm test` runs whatever
 * package.json's `scripts.test` says, `make` whatever the Makefile says. An allowed entry is bound
 * to their content (bindings.ts). A command word that is itself a path (`./gradlew`, `bin/test`) is
 * bound to that file. The list is known per tool, not complete: a Makefile's `include`, a script's
 * own imports and the test code itself are not followed (confinement is the net for those).
 */
import { posix } from 'node:path';

export interface ToolFiles {
  /** Tools sharing option meanings (risky-args.ts). */
  family: string;
  /** Workspace-relative files; `package.json#scripts,config` binds only those keys. */
  files: string[];
}

const NODE = [
  'package.json#scripts,config,packageManager',
  '.npmrc',
  '.yarnrc',
  '.yarnrc.yml',
  '.pnpmfile.cjs',
  'bunfig.toml',
];
const PY = ['pyproject.toml', 'setup.cfg', 'tox.ini', 'pytest.ini', 'noxfile.py', 'conftest.py', 'Pipfile'];
const CARGO = ['Cargo.toml', '.cargo/config.toml', '.cargo/config', 'rust-toolchain.toml', 'rust-toolchain'];
const GRADLE = [
  'build.gradle',
  'build.gradle.kts',
  'settings.gradle',
  'settings.gradle.kts',
  'gradle.properties',
  'gradle/wrapper/gradle-wrapper.properties',
];
const MAVEN = ['pom.xml', '.mvn/maven.config', '.mvn/jvm.config', '.mvn/wrapper/maven-wrapper.properties'];

const TOOLS: Record<string, ToolFiles> = {};
const add = (names: string, t: ToolFiles) => {
  for (const n of names.split(' ')) TOOLS[n] = t;
};
add('npm npx pnpm pnpx yarn bun bunx corepack', { family: 'node', files: NODE });
add('make gmake', { family: 'make', files: ['GNUmakefile', 'makefile', 'Makefile'] });
add('just', { family: 'just', files: ['justfile', 'Justfile', '.justfile'] });
add('tox nox pytest py.test poetry uv hatch pdm pipenv python python3', { family: 'python', files: PY });
add('cargo', { family: 'cargo', files: CARGO });
add('go', { family: 'go', files: ['go.mod', 'go.work'] });
add('gradle', { family: 'jvm', files: GRADLE });
add('mvn', { family: 'jvm', files: MAVEN });
add('rake', { family: 'ruby', files: ['Rakefile', 'rakefile', 'Gemfile'] });
add('bundle', { family: 'ruby', files: ['Gemfile', '.bundle/config'] });
add('composer', { family: 'php', files: ['composer.json#scripts,config'] });
add('deno', { family: 'node', files: ['deno.json', 'deno.jsonc'] });
add('task', { family: 'task', files: ['Taskfile.yml', 'Taskfile.yaml', 'taskfile.yml'] });
add('git', { family: 'git', files: [] });

/** Words in front of the real command that only change how it runs. */
const WRAPPERS = new Set(['env', 'nice', 'nohup', 'time', 'timeout', 'stdbuf', 'ionice', 'command', 'exec']);

/** The command word past wrappers (`timeout 60 npm test` → npm), and where it is. */
export function commandWord(argv: readonly string[]): { word: string; index: number } {
  let i = 0;
  let wrapped = false;
  while (i < argv.length) {
    const w = argv[i]!;
    if (WRAPPERS.has(posix.basename(w))) wrapped = true;
    else if (!(wrapped && (w.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(w) || /^\d/.test(w)))) break;
    i++;
  }
  return { word: argv[i] ?? '', index: i };
}

export function toolOf(word: string): ToolFiles | undefined {
  const known = TOOLS[posix.basename(word)];
  // `./gradlew`, `./mvnw` and any script in the workspace: the file itself decides what runs.
  if (word.includes('/')) {
    const self = { family: known?.family ?? 'script', files: [] as string[] };
    const wrapperOf = /^(gradlew|mvnw)$/.exec(posix.basename(word))?.[1];
    if (wrapperOf) return { family: 'jvm', files: wrapperOf === 'gradlew' ? GRADLE : MAVEN };
    return known ?? self;
  }
  return known;
}

/** The workspace files (with key selectors) that decide what `word` does there. */
export function boundFilesOf(word: string, workspace: string): string[] {
  const tool = toolOf(word);
  const files = [...(tool?.files ?? [])];
  if (word.includes('/')) {
    const rel = posix.relative(workspace, posix.resolve(workspace, word));
    if (!rel.startsWith('..') && !posix.isAbsolute(rel)) files.unshift(rel);
  }
  return files;
}
