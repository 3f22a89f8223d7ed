/** Reads the repository's vendored vectors (shared/test/vectors, see PROVENANCE.md); never the network. */
import { readFileSync } from 'node:fs';

export function readVectorText(relativePath: string): string {
  return readFileSync(new URL(`../vectors/${relativePath}`, import.meta.url), 'utf8');
}

export function readVectorJson<T>(relativePath: string): T {
  return JSON.parse(readVectorText(relativePath)) as T;
}
