/** One page of the dashboard: loads its data, renders it; re-rendered only when the data changed. */
export interface View<T = unknown> {
  title: string;
  load(): Promise<T>;
  render(data: T, refresh: () => Promise<void>): (Node | null)[];
  /** Poll this often while shown (never while the operator is typing in it). */
  refreshMs?: number;
}
