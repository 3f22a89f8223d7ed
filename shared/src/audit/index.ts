export * from './node-log-format.js';
