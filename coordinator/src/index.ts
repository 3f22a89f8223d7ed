export { SigningCoordinator, type SignedEvent, type NodeSender } from './signing/signing-coordinator.js';
export type { ShareNodeMember, SigningIdentity } from './signing/identity.js';
export { QuorumMonitor, type QuorumStatus } from './signing/quorum-monitor.js';
export { dispatchNip46, type Nip46Context } from './nip46/dispatch.js';
export { Nip46Endpoint } from './nip46/endpoint.js';
export { classifyKind, SENSITIVE_KINDS } from './acl/kind-risk.js';
export { loadCoordinatorConfig } from './config.js';
