import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

// deploy/container cannot be built here (no Docker engine), so nothing may rot silently: every
// service, volume, secret, build target and entry point the compose file and the Dockerfile name
// must exist, and the keygen service's command line must be one keygen accepts.
const repo = fileURLToPath(new URL('../../', import.meta.url));
const containerDir = join(repo, 'deploy/container');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target: string };
  command?: string[];
  volumes?: string[];
  secrets?: string[];
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  network_mode?: string;
  networks?: string[];
  depends_on?: Record<string, { condition: string }>;
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  networks: Record<string, unknown>;
  secrets: Record<string, { file: string }>;
}

const compose = parse(readFileSync(join(containerDir, 'compose.yaml'), 'utf8'), { merge: true }) as Compose;
const dockerfile = readFileSync(join(containerDir, 'Dockerfile'), 'utf8');
/** Stage name → its lines. */
const stages = new Map<string, string[]>();
{
  let current: string[] = [];
  for (const line of dockerfile.split('\n')) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = [line];
      stages.set(from[2] ?? from[1]!, current);
    } else current.push(line);
  }
}
const exec = (stage: string, instruction: string): string[] | undefined => {
  const line = stages.get(stage)?.find((l) => l.startsWith(`${instruction} [`));
  return line === undefined ? undefined : (JSON.parse(line.slice(instruction.length + 1)) as string[]);
};
/** The workspace package a runtime stage copies from the build stage's /out. */
const packageOf = (stage: string): string => {
  const copy = stages.get(stage)?.find((l) => l.startsWith('COPY --from=build /out/'));
  expect(copy, `${stage}: COPY --from=build /out/<package>`).toBeDefined();
  return /\/out\/([a-z-]+) \/app$/.exec(copy!)![1]!;
};

describe('deploy/container', () => {
  it('runs the 2-of-3 lab: keygen, relay, coordinator and three share nodes', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['coordinator', 'keygen', 'node-1', 'node-2', 'node-3', 'relay']);
    const keygen = compose.services.keygen!.command!;
    expect(keygen[keygen.indexOf('--threshold') + 1]).toBe('2');
    expect(keygen[keygen.indexOf('--nodes') + 1]).toBe('3');
  });

  it('builds every service from this repository and a stage the Dockerfile defines', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const build = service.build!;
      expect(build, name).toBeDefined();
      const context = resolve(containerDir, build.context);
      expect(existsSync(join(context, 'pnpm-workspace.yaml')), `${name}: context is the repository root`).toBe(true);
      expect(resolve(context, build.dockerfile)).toBe(join(containerDir, 'Dockerfile'));
      expect(stages.has(build.target), `${name}: stage ${build.target}`).toBe(true);
      expect(service.image).toBe(`frostbunker/${build.target}:dev`);
    }
  });

  it('starts each role from an entry point that is built from a source file in the repository', () => {
    for (const stage of ['relay', 'keygen', 'coordinator', 'share-node']) {
      const pkg = packageOf(stage);
      // The build stage makes /out/<pkg> with `pnpm --filter @frostbunker/<pkg> deploy`.
      expect(stages.get('build')!.join('\n')).toContain(`--filter @frostbunker/${pkg} deploy --legacy --prod /out/${pkg}`);
      expect(JSON.parse(readFileSync(join(repo, pkg, 'package.json'), 'utf8')).name).toBe(`@frostbunker/${pkg}`);
      const scripts = [exec(stage, 'ENTRYPOINT'), exec(stage, 'HEALTHCHECK --interval=30s --timeout=10s --start-period=30s CMD')]
        .filter((e): e is string[] => e !== undefined)
        .map((e) => e[1]!);
      expect(scripts.length, stage).toBeGreaterThan(0);
      for (const script of scripts) {
        const source = script.replace(/^\/app\/dist\//, `${pkg}/src/`).replace(/\.js$/, '.ts');
        expect(existsSync(join(repo, source)), `${stage}: ${script} ← ${source}`).toBe(true);
      }
    }
  });

  it('runs as a non-root user on node:20-bookworm-slim, and compiles better-sqlite3 only in the build stage', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(stages.get('runtime')!.some((l) => l === 'USER node')).toBe(true);
    for (const stage of ['relay', 'keygen', 'coordinator', 'share-node']) {
      expect(stages.get(stage)![0]).toMatch(/^FROM runtime AS /);
      expect(stages.get(stage)!.some((l) => /^USER\s+(root|0)\b/.test(l))).toBe(false);
    }
    expect(stages.get('build')!.join('\n')).toMatch(/npm_config_build_from_source=true/);
    expect(stages.get('build')!.join('\n')).toMatch(/g\+\+/);
    expect(stages.get('runtime')!.join('\n')).not.toMatch(/g\+\+|apt-get install/);
  });

  it('declares every volume, network and secret it uses, and uses every one it declares', () => {
    const usedVolumes = new Set<string>();
    const usedSecrets = new Set<string>();
    for (const [name, service] of Object.entries(compose.services)) {
      for (const mount of service.volumes ?? []) {
        const [source, target] = mount.split(':');
        expect(compose.volumes, `${name}: volume ${source}`).toHaveProperty(source!);
        expect(target).toMatch(/^\/(data|out\/(coordinator|node-\d))$/);
        usedVolumes.add(source!);
      }
      for (const secret of service.secrets ?? []) {
        expect(compose.secrets, `${name}: secret ${secret}`).toHaveProperty(secret);
        usedSecrets.add(secret);
      }
      for (const network of service.networks ?? []) expect(compose.networks, `${name}: network ${network}`).toHaveProperty(network);
      for (const dependency of Object.keys(service.depends_on ?? {})) expect(compose.services, `${name} depends on ${dependency}`).toHaveProperty(dependency);
    }
    expect([...usedVolumes].sort()).toEqual(Object.keys(compose.volumes).sort());
    expect([...usedSecrets].sort()).toEqual(Object.keys(compose.secrets).sort());
    // Each share node has its own volume: no container sees another node's share.
    const nodeVolumes = ['node-1', 'node-2', 'node-3'].map((n) => compose.services[n]!.volumes);
    expect(nodeVolumes).toEqual([['node-1-data:/data'], ['node-2-data:/data'], ['node-3-data:/data']]);
    // The passphrase file is the operator's: next to compose.yaml, ignored by git and by the build.
    expect(compose.secrets.passphrase!.file).toBe('./passphrase');
    expect(readFileSync(join(containerDir, '.gitignore'), 'utf8')).toMatch(/^passphrase$/m);
    expect(readFileSync(join(containerDir, 'Dockerfile.dockerignore'), 'utf8')).toMatch(/^deploy\/container\/passphrase$/m);
  });

  it('hardens every service: read-only root, no capabilities, no privilege gain; keygen has no network', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.read_only, name).toBe(true);
      expect(service.cap_drop, name).toEqual(['ALL']);
      expect(service.security_opt, name).toContain('no-new-privileges:true');
    }
    expect(compose.services.keygen!.network_mode).toBe('none');
  });

  it('gives keygen a command line keygen accepts, writing one bundle per volume', () => {
    const dir = mkdtempSync(join(tmpdir(), 'frostbunker-compose-'));
    try {
      writeFileSync(join(dir, 'passphrase'), 'compose test passphrase\n', { mode: 0o600 });
      const args = compose.services.keygen!.command!.map((arg) => (arg === '/out' ? join(dir, 'out') : arg === '/run/secrets/passphrase' ? join(dir, 'passphrase') : arg));
      const entry = exec('keygen', 'ENTRYPOINT')![1]!.replace(/^\/app\//, `${repo}deploy/`);
      const first = spawnSync('node', [entry, ...args], { encoding: 'utf8' });
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      const bundles = compose.services.keygen!.volumes!.map((v) => v.split(':')[1]!.replace(/^\/out\//, ''));
      expect(readdirSync(join(dir, 'out')).sort()).toEqual(bundles.sort());
      for (const bundle of bundles) expect(readdirSync(join(dir, 'out', bundle)).sort()).toEqual(['config.json', 'secrets.json']);
      // `docker compose up` again: --if-absent keeps the identity and succeeds.
      const again = spawnSync('node', [entry, ...args], { encoding: 'utf8' });
      expect(again.status).toBe(0);
      expect(again.stdout).toMatch(/already holds an identity; nothing written/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
