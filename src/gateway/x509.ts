/**
 * @peculiar/x509, for minting certificates: imported on first use (ca.ts `loadX509`), not when the
 * gateway starts. Evaluating it and its Reflect polyfill took ~50 ms of the gateway's ~85 ms of
 * start-up CPU here (`require('@peculiar/x509')` 57–61 ms, Node 20), and a gateway only needs it for
 * its first intercepted TLS host.
 */
import 'reflect-metadata'; // @peculiar/x509 2.x needs a Reflect metadata polyfill, loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
