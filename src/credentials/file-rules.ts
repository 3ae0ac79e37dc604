/**
 * Rules that need to know what kind of file they are reading: a `password` line means a credential in
 * `.netrc` but nothing in a README. Each rule first checks the file's name (or a cheap marker in its
 * text) so the common case costs one string comparison.
 */
import { isPlaceholder, lineAt, unquote } from './shape.js';
import type { FileInput, Hit } from './types.js';

/** Every match of `re` whose `v` group is a real-looking value, as a hit on its line. */
function valueHits(text: string, re: RegExp, rule: string, describe: (m: RegExpMatchArray) => Hit): Hit[] {
  const hits: Hit[] = [];
  for (const m of text.matchAll(re)) {
    // These files exist to hold credentials: any non-template value counts, however short.
    if (isPlaceholder(unquote(m.groups?.v ?? ''), 1)) continue;
    hits.push({ ...describe(m), rule, line: lineAt(text, m.index!) });
  }
  return hits;
}

const ENV_FILE = /^\.env(\..+)?$|.\.env$/;
const ENV_LINE = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*=[ \t]*(.*)$/gm;
// Names that hold secrets by convention; the exclusions are their public or non-secret neighbours.
const SECRET_NAME =
  /(?:^|_)(?:API_?KEY|KEY|SECRET|TOKEN|PASSWORD|PASSWD|PWD|PASS|CREDENTIALS?|AUTH)$|PASSWORD|SECRET/;
const NOT_SECRET_NAME = /PUBLIC|PUBLISHABLE|_ID$|_FILE$|_PATH$|_NAME$|_URL$|_URI$|_HOST$|_ENABLED$/;
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:([^@\s]+)@/i;

function envHits(f: FileInput, text: string): Hit[] {
  if (!ENV_FILE.test(f.name)) return [];
  const hits: Hit[] = [];
  for (const m of text.matchAll(ENV_LINE)) {
    const name = m[1]!;
    const value = unquote(m[2] ?? '');
    const line = lineAt(text, m.index);
    const password = URL_PASSWORD.exec(value)?.[1];
    // A DATABASE_URL's password is often short, and still a password.
    if (password !== undefined && !isPlaceholder(password, 1)) {
      hits.push({
        line,
        rule: 'env-url-password',
        description: `Password inside the URL in ${name}`,
        preview: `${name}=<scheme>://<user>:…@… (${value.length} chars)`,
      });
      continue;
    }
    const upper = name.toUpperCase();
    if (!SECRET_NAME.test(upper) || NOT_SECRET_NAME.test(upper) || isPlaceholder(value)) continue;
    hits.push({
      line,
      rule: 'env-secret',
      description: `Secret-looking value for ${name} in an env file`,
      preview: `${name}=… (${value.length} chars)`,
    });
  }
  return hits;
}

function kubeconfigHits(text: string): Hit[] {
  if (!/^kind:[ \t]*["']?Config["']?[ \t]*$/m.test(text)) return [];
  if (!/^apiVersion:[ \t]*["']?v1["']?[ \t]*$/m.test(text) || !/^users:/m.test(text)) return [];
  return valueHits(
    text,
    /^[ \t-]*(token|client-key-data|password|id-token|refresh-token):[ \t]*(?<v>\S.*)$/gm,
    'kubeconfig',
    (m) => ({ rule: '', description: `Kubernetes ${m[1]} in a kubeconfig`, preview: `${m[1]}: …` }),
  );
}

function gitCredentialsHits(f: FileInput, text: string): Hit[] {
  if (f.name !== '.git-credentials') return [];
  return valueHits(
    text,
    /^[ \t]*[a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:(?<v>[^@\s]+)@(\S*)$/gim,
    'git-credentials',
    (m) => ({
      rule: '',
      description: 'Stored git credential',
      // The host is not secret, and it tells the user which login this is.
      preview: `<scheme>://<user>:…@${m[2]!.replace(/[/?#].*/, '')}`,
    }),
  );
}

function gitRemoteHits(f: FileInput, text: string): Hit[] {
  if (f.path !== '.git/config' && !f.path.endsWith('/.git/config')) return [];
  return valueHits(
    text,
    /^[ \t]*(?:push)?url[ \t]*=[ \t]*[a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:(?<v>[^@\s]+)@(\S*)$/gim,
    'git-remote-credentials',
    (m) => ({
      rule: '',
      description: 'Credential inside a git remote URL',
      preview: `url = <scheme>://<user>:…@${m[2]!.replace(/[/?#].*/, '')}`,
    }),
  );
}

function netrcHits(f: FileInput, text: string): Hit[] {
  if (f.name !== '.netrc' && f.name !== '_netrc') return [];
  return valueHits(text, /\bpassword[ \t]+(?<v>\S+)/g, 'netrc', () => ({
    rule: '',
    description: 'Password in a .netrc',
    preview: 'password …',
  }));
}

function pypircHits(f: FileInput, text: string): Hit[] {
  if (f.name !== '.pypirc') return [];
  return valueHits(text, /^[ \t]*password[ \t]*[=:][ \t]*(?<v>\S.*)$/gm, 'pypirc', () => ({
    rule: '',
    description: 'Package index password in a .pypirc',
    preview: 'password = …',
  }));
}

function npmrcHits(f: FileInput, text: string): Hit[] {
  if (!/^\.?npmrc$/.test(f.name)) return [];
  return valueHits(
    text,
    /^[ \t]*(\S*?:?_(?:authToken|auth|password))[ \t]*=[ \t]*(?<v>\S.*)$/gm,
    'npmrc-auth',
    (m) => ({
      rule: '',
      description: 'Registry credential in an .npmrc',
      preview: `${m[1]}=…`,
    }),
  );
}

function dockerConfigHits(f: FileInput, text: string): Hit[] {
  if (f.name !== 'config.json' || !text.includes('"auths"')) return [];
  return valueHits(text, /"(auth|identitytoken|registrytoken)"\s*:\s*"(?<v>[^"]*)"/g, 'docker-auth', (m) => ({
    rule: '',
    description: 'Registry login in a Docker config.json',
    preview: `"${m[1]}": "…"`,
  }));
}

function gcpServiceAccountHits(text: string): Hit[] {
  if (!/"type"\s*:\s*"service_account"/.test(text)) return [];
  const m = /"private_key"\s*:\s*"-----BEGIN[^"]{64,}"/.exec(text);
  if (!m) return [];
  return [
    {
      line: lineAt(text, m.index),
      rule: 'gcp-service-account',
      description: 'Google Cloud service account key (JSON)',
      preview: '"type": "service_account", "private_key": "-----BEGIN … "',
    },
  ];
}

/** Rules that read the file's text; run on text files within the size limit. */
export function fileTextHits(f: FileInput, text: string): Hit[] {
  return [
    ...gcpServiceAccountHits(text),
    ...envHits(f, text),
    ...kubeconfigHits(text),
    ...gitCredentialsHits(f, text),
    ...gitRemoteHits(f, text),
    ...netrcHits(f, text),
    ...pypircHits(f, text),
    ...npmrcHits(f, text),
    ...dockerConfigHits(f, text),
  ];
}

const KEY_FILE = /^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$/;

/** Recognised by name alone, so it applies to binary and oversized files too. */
export function fileNameHits(f: FileInput): Hit[] {
  if (!KEY_FILE.test(f.name)) return [];
  return [{ rule: 'ssh-key-file', description: 'SSH private key file', preview: f.name }];
}
