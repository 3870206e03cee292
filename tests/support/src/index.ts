export { CHROMIUM_ARGS, CHROMIUM_PATH_VARIABLE, ChromiumNotFoundError, SYSTEM_CHROMIUM_SWITCH, findChromium, launchChromium } from './chromium.js';
export type { ChromiumSource, FoundChromium } from './chromium.js';
export { RUN_TAG_VARIABLE, runTag, runTagEnv, testDatabaseName, testTempDir } from './resources.js';
export { sweep } from './janitor.js';
export type { Leftovers } from './janitor.js';
export { loadProtocolVectors, toServerSentEvent } from './protocol-vectors.js';
export type { ProtocolVector, ProtocolVectors, VectorEvent, VectorExpectation } from './protocol-vectors.js';
export { adminRequest, freePort } from './network.js';
