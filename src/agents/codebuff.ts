import { defineAgent } from './types.js';

// Codebuff (and Freebuff, its free tier, the same CLI) runs its agents on Codebuff's servers: the
// CLI is a thin client, so there is no custom endpoint and no local tool loop to script.
export const codebuff = defineAgent({
  name: 'codebuff',
  displayName: 'Codebuff / Freebuff',
  provider: 'Codebuff',
  aliases: ['freebuff', 'cb'],
  install: { kind: 'npm', package: 'codebuff', version: '1.0.685' },
  command: ['codebuff'],
  versionCommand: ['codebuff', '--version'],
  yoloArgs: [],
  statePaths: ['.config/manicode'],
  loginFiles: ['.config/manicode/credentials.json'],
  authEnv: ['CODEBUFF_API_KEY'],
  apiDomains: ['codebuff.com', 'www.codebuff.com', 'manicode-backend.onrender.com'],
  instructionsFile: 'knowledge.md',
  unavailable:
    'the codebuff npm package is a launcher that downloads the real binary from github.com on first run',
  notes: [
    'no autonomy flag: Codebuff applies its edits and runs commands without asking',
    'no custom model endpoint and no host bridge: the agent loop runs on Codebuff’s servers',
    'not installable here: its launcher fetches the binary from github.com',
  ],
});
