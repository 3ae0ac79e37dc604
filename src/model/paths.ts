import { fileURLToPath } from 'node:url';

/** src/model/ and dist/model/ both sit two levels below the package root. */
export const DEFAULT_SCRIPT_PATH = fileURLToPath(new URL('../../assets/model/default.yaml', import.meta.url));
