import { join } from 'node:path';
import { dataFile } from '../config/json-store.js';
import { validateProfile } from '../workspace/identity.js';

/** A profile's host-side auth folder: the brokered login (oauth.json) and the long-lived `token`. */
export function authDir(agent: string, profile: string): string {
  return dataFile(join('auth', agent, validateProfile(profile)));
}
