/**
 * `node --import lockscope/register app.js` (or `--require lockscope/register`): loads the probe
 * before the program, so that the transports chosen by the environment are attached and the exit
 * hooks installed before any of the program's code runs.
 */
import './index.js';
