/**
 * corral's data folder, for the CLI's edge (a disk-full error names it) without loading the whole
 * core: `corral --version` and each command's own module load only what they use.
 */
export { dataFile } from '../config/json-store.js';
