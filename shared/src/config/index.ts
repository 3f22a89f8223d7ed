export * from './files.js';
export * from './enrolment-check.js';
export * from './secrets-file.js';
export * from './passphrase.js';
export * from './failpoints.js';
