export * from './files.js';
export * from './enrolment-check.js';
