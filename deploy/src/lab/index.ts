export { Lab, LAB_PERMS, type LabOptions } from './lab.js';
export { buildBunkerUrl } from './bunker-url.js';
export { ensureLabIdentity, labLayout } from './lab-identity.js';
export { ENTRY_POINTS, parseStatusLine, startProcess, type ManagedProcess } from './managed-process.js';
export { readFrostrCredentials } from './frostr-import.js';
