/** The client side of `corral ssh-config`: the entries it renders and the one Include line it adds. */
import { mkdir, mkdtemp, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installInclude, knownHostsLine, renderSshConfig } from '../../src/ssh/config.js';
import { parsePublicKeys } from '../../src/ssh/keys.js';

const entry = {
  host: 'corral-0123456789ab-claude',
  agent: 'claude',
  workspacePath: '/home/me/project',
  hostName: '127.0.0.1',
  port: 2222,
  user: 'corral-0123456789ab-claude',
  identityFile: '/home/me/My Keys/id_ed25519',
  hostKeyAlias: 'corral-ssh',
  knownHostsFile: '/home/me/.config/corral/ssh/known_hosts',
};

describe('renderSshConfig', () => {
  it('one strict Host block per sandbox, paths with spaces quoted, then back to every host', () => {
    const text = renderSshConfig([entry]);
    expect(text).toContain('Host corral-0123456789ab-claude\n  HostName 127.0.0.1\n  Port 2222\n');
    expect(text).toContain('  IdentityFile "/home/me/My Keys/id_ed25519"\n');
    expect(text).toContain('  StrictHostKeyChecking yes\n');
    expect(text.trimEnd().endsWith('Match all')).toBe(true);
  });

  it('known_hosts names the key by its alias only', () => {
    expect(knownHostsLine('ssh-ed25519 AAAAC3Nz host comment\n')).toBe('corral-ssh ssh-ed25519 AAAAC3Nz\n');
  });
});

describe('installInclude', () => {
  const file = '/home/me/.config/corral/ssh/config';

  it('adds one line at the top, keeps everything else, and adds nothing the second time', async () => {
    const home = await mkdtemp(join(tmpdir(), 'corral-ssh-unit-'));
    await mkdir(join(home, '.ssh'));
    const mine = 'Host a\n  User x\n\nHost *\n  ServerAliveInterval 30\n';
    await writeFile(join(home, '.ssh/config'), mine, { mode: 0o644 });
    expect((await installInclude(home, file)).added).toBe(true);
    expect((await installInclude(home, file)).added).toBe(false);
    expect(await readFile(join(home, '.ssh/config'), 'utf8')).toBe(`Include ${file}\n${mine}`);
    expect((await stat(join(home, '.ssh/config'))).mode & 0o777).toBe(0o644);
  });

  it('recognises the line among other Include files, quoted', async () => {
    const home = await mkdtemp(join(tmpdir(), 'corral-ssh-unit-'));
    await mkdir(join(home, '.ssh'));
    await writeFile(join(home, '.ssh/config'), `Host a\n  User x\ninclude ~/.ssh/other "${file}"\n`);
    expect((await installInclude(home, file)).added).toBe(false);
  });

  it('creates ~/.ssh/config 0600 when there is none, and edits a symlinked one where it points', async () => {
    const home = await mkdtemp(join(tmpdir(), 'corral-ssh-unit-'));
    expect((await installInclude(home, file)).added).toBe(true);
    expect((await stat(join(home, '.ssh/config'))).mode & 0o777).toBe(0o600);
    const other = await mkdtemp(join(tmpdir(), 'corral-ssh-unit-'));
    await mkdir(join(other, '.ssh'));
    await writeFile(join(other, 'dotfile'), 'Host b\n');
    await symlink(join(other, 'dotfile'), join(other, '.ssh/config'));
    await installInclude(other, file);
    expect(await readFile(join(other, 'dotfile'), 'utf8')).toBe(`Include ${file}\nHost b\n`);
  });
});

describe('parsePublicKeys', () => {
  it('reads keys with authorized_keys options and skips comments and junk', () => {
    const key = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
    const text = `# mine\nssh-ed25519 ${key} me@laptop\nno-pty,command="x" ssh-ed25519 ${key}\nnot a key\n`;
    const keys = parsePublicKeys(text);
    expect(keys).toHaveLength(2);
    expect(keys[0]!.type).toBe('ssh-ed25519');
  });
});
