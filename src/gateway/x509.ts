/**
 * @peculiar/x509, for minting certificates: imported on first use (ca.ts `loadX509`), when the
 * gateway mints its first leaf, not when it starts. Evaluating it and its Reflect polyfill took ~50
 * ms of the gateway's ~85 ms of start-up CPU here (`require('@peculiar/x509')` 57–61 ms, Node 20)
 * and memory in every gateway; the first intercepted host of a gateway's life pays it once instead
 * (a gateway that intercepts nothing, e.g. one only reaching a local model over plain HTTP, never).
 */
import 'reflect-metadata'; // @peculiar/x509 2.x needs a Reflect metadata polyfill, loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
