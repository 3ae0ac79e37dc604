#!/usr/bin/env node
// The per-user daemon (`corral daemon start` runs this detached; see src/daemon/main.ts).
import { main } from '../dist/bundle/daemon.js';

main(process.argv).then((code) => process.exit(code));
