import type { Lab, ManagedProcess } from '@frostbunker/deploy/lab';

/**
 * The process nemesis (RELIABILITY.md §3.2): signals lab processes through the Lab's
 * `ManagedProcess` handles, by pid — never by name, so nothing outside the lab is touched.
 * Every action is recorded with its time (monotonic ms), for the history and the report.
 */
export class ProcessNemesis {
  readonly actions: { atMs: number; action: string; target: string; pid: number }[] = [];
  /** Share nodes (1-based) running with failpoints armed. */
  readonly #armed = new Set<number>();

  constructor(private readonly lab: Lab) {}

  #node(index: number): ManagedProcess {
    const node = this.lab.nodes[index - 1];
    if (!node) throw new Error(`node-${index} is not running`);
    return node;
  }

  #signal(process: ManagedProcess, signal: NodeJS.Signals): void {
    this.actions.push({ atMs: performance.now(), action: signal, target: process.name, pid: process.pid });
    process.child.kill(signal);
  }

  /** SIGKILL share node `index` and wait for it to be gone (the lab forgets it). */
  async killNode(index: number): Promise<void> {
    const node = this.#node(index);
    this.#signal(node, 'SIGKILL');
    await node.exited;
    this.lab.nodes[index - 1] = undefined;
  }

  /** SIGSTOP share node `index`: its sockets stay open, it answers nothing. */
  pauseNode(index: number): void {
    this.#signal(this.#node(index), 'SIGSTOP');
  }

  resumeNode(index: number): void {
    this.#signal(this.#node(index), 'SIGCONT');
  }

  /** Starts share node `index` again (after a kill), with extra environment if given. */
  async restartNode(index: number, env: Record<string, string> = {}): Promise<void> {
    const node = await this.lab.startNode(index, env);
    this.actions.push({ atMs: performance.now(), action: 'start', target: node.name, pid: node.pid });
  }

  /** (Re)starts share node `index` with test-mode failpoints `spec` armed (stopping it first if it runs). */
  async armNode(index: number, spec: string): Promise<ManagedProcess> {
    await this.lab.stopNode(index);
    const node = await this.lab.startNode(index, failpointEnv(spec));
    this.#armed.add(index);
    this.actions.push({ atMs: performance.now(), action: `start ${spec}`, target: node.name, pid: node.pid });
    return node;
  }

  /**
   * Puts every share node back as the lab started it: resumed, running, and without failpoints. A
   * goal that fails half way must not hand the next one a paused, dead or armed node.
   */
  async restoreNodes(): Promise<void> {
    this.resumeAll();
    for (let index = 1; index <= this.lab.options.maxSigners; index++) {
      const node = this.lab.nodes[index - 1];
      const running = node !== undefined && node.child.exitCode === null && node.child.signalCode === null;
      if (running && !this.#armed.has(index)) continue;
      await this.lab.stopNode(index);
      await this.restartNode(index);
      this.#armed.delete(index);
    }
  }

  /** SIGKILL the coordinator and start it again on the same data. */
  async killAndRestartCoordinator(): Promise<void> {
    this.actions.push({ atMs: performance.now(), action: 'SIGKILL+start', target: 'coordinator', pid: this.lab.coordinator.pid });
    await this.lab.restartCoordinator(true);
  }

  /** SIGCONT every node this nemesis paused (cleanup: a stopped child blocks lab.stop()). */
  resumeAll(): void {
    for (const node of this.lab.nodes) if (node) node.child.kill('SIGCONT');
  }
}

/**
 * Environment that arms test-mode failpoints in a child (shared/src/config/failpoints.ts: armed only
 * with FROSTBUNKER_TEST_MODE=1 and NODE_ENV=test).
 */
export function failpointEnv(spec: string): Record<string, string> {
  return { FROSTBUNKER_TEST_MODE: '1', NODE_ENV: 'test', FROSTBUNKER_FAILPOINTS: spec };
}
