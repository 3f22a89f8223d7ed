export * from './brands.js';
export * from './limits.js';
export * from './event-template.js';
export * from './nip46.js';
export * from './node-messages.js';
export * from './group-id.js';
export * from './enrolment.js';
export * from './ceremony-messages.js';
