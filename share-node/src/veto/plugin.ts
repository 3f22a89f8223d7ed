import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@frostbunker/shared/errors';
import type { VetoRule } from './rule.js';

export type { RuleVerdict, VetoRule } from './rule.js';

/** Rule names appear in refusals as `plugin:<name>`, so they are short and plain. */
const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Imports rule plugins: each module (path relative to `baseDir`, usually the policy file's folder)
 * must export `rules`, a non-empty array of `{ name, evaluate(event, ctx) }`, with names unique
 * across all modules. Anything else throws ConfigError naming the module path, so a bad plugin
 * stops the node from starting (or a reload from taking effect) instead of being skipped.
 *
 * This is the one function in `veto/` that does I/O (a dynamic import); the rules it returns are
 * run by the pure `decideVeto`. @NOTE Node caches ES modules by URL: editing a plugin file takes
 * effect on restart, not on a policy reload.
 *
 * @example
 * const rules = await loadRulePlugins(policy.plugins, dirname(policyPath));
 */
export async function loadRulePlugins(modulePaths: readonly string[], baseDir: string): Promise<VetoRule[]> {
  const rules: VetoRule[] = [];
  const seen = new Map<string, string>();
  for (const modulePath of modulePaths) {
    const absolutePath = isAbsolute(modulePath) ? modulePath : resolve(baseDir, modulePath);
    let loaded: unknown;
    try {
      loaded = await import(pathToFileURL(absolutePath).href);
    } catch (error) {
      throw new ConfigError(absolutePath, `cannot import rule plugin: ${(error as Error).message}`, { cause: error });
    }
    for (const rule of assertPluginModule(loaded, absolutePath)) {
      const earlier = seen.get(rule.name);
      if (earlier !== undefined) throw new ConfigError(absolutePath, `rule name "${rule.name}" is already used by ${earlier}`);
      seen.set(rule.name, absolutePath);
      rules.push(rule);
    }
  }
  return rules;
}

/** Checks the shape of an imported plugin module; throws ConfigError naming `modulePath`. */
export function assertPluginModule(loaded: unknown, modulePath: string): VetoRule[] {
  const exported = typeof loaded === 'object' && loaded !== null && 'rules' in loaded ? loaded.rules : undefined;
  if (!Array.isArray(exported)) throw new ConfigError(modulePath, 'a rule plugin must export `rules`, an array of { name, evaluate }');
  if (exported.length === 0) throw new ConfigError(modulePath, '`rules` is empty');
  return exported.map((rule: unknown, index): VetoRule => {
    const field = `${modulePath}#rules[${index}]`;
    if (typeof rule !== 'object' || rule === null) throw new ConfigError(field, 'expected an object { name, evaluate }');
    const name = 'name' in rule ? rule.name : undefined;
    const evaluate = 'evaluate' in rule ? rule.evaluate : undefined;
    if (typeof name !== 'string' || !RULE_NAME.test(name)) {
      throw new ConfigError(`${field}.name`, 'expected 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
    }
    if (typeof evaluate !== 'function') throw new ConfigError(`${field}.evaluate`, 'expected a function (event, ctx) => verdict');
    // A wrapper, not the module's object: the name is fixed now and `this` stays the rule object.
    return { name, evaluate: (event, ctx) => Reflect.apply(evaluate, rule, [event, ctx]) };
  });
}
