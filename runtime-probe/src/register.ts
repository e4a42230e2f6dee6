/**
 * `node --import lockscope/register app.js` (or `--require lockscope/register`): loads the probe
 * before the program, so that the transports chosen by the environment are attached and the exit
 * hooks installed before any of the program's code runs, and installs the adapters that observe
 * the lock packages the program already uses (adapters/install.ts). The build emits it as a
 * small shim that does the same with the main bundle.
 */
import './register-mark.js';
import { registerProbe } from './index.js';

registerProbe();
