import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@frostbunker/shared/errors';
import { assertPluginModule, loadRulePlugins, type VetoRule } from '../../src/veto/plugin.js';
import { decideVeto } from '../../src/veto/policy.js';
import { DEFAULT_VETO_POLICY } from '../../src/veto/policy-schema.js';
import { makeCtx, makeEvent, NOW_SEC } from './events.js';

const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));
const FIXTURES_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));
const EXAMPLE_PLUGIN = 'veto-plugin/link-guard.mjs';
const NOON_UTC = NOW_SEC - 8 * 3600 + 12 * 3600; // NOW_SEC is 08:00 UTC
const THREE_AM_UTC = NOW_SEC - 5 * 3600;

async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error;
}

function decideNote(rules: readonly VetoRule[], content: string, nowSec = NOON_UTC) {
  return decideVeto(makeEvent({ kind: 1, content, created_at: nowSec }), DEFAULT_VETO_POLICY, makeCtx({ nowSec }), rules);
}

const links = (n: number) => Array.from({ length: n }, (_, i) => `https://example.com/${i}`).join(' ');

describe('loadRulePlugins with the example plugin', () => {
  it('loads the example plugin relative to the policy folder', async () => {
    const rules = await loadRulePlugins([EXAMPLE_PLUGIN], EXAMPLES_DIR);
    expect(rules.map((rule) => rule.name)).toEqual(['max-links', 'quiet-hours-links']);
  });

  it('loads a plugin given by absolute path whatever the base folder', async () => {
    const rules = await loadRulePlugins([`${EXAMPLES_DIR}${EXAMPLE_PLUGIN}`], '/nonexistent');
    expect(rules).toHaveLength(2);
  });

  it('denies a daytime note with more than 3 links and allows one with 3', async () => {
    const rules = await loadRulePlugins([EXAMPLE_PLUGIN], EXAMPLES_DIR);
    expect(decideNote(rules, `look ${links(4)}`)).toEqual({ decision: 'deny', rule: 'plugin:max-links', reason: 'kind 1 note has 4 links (max 3)' });
    expect(decideNote(rules, `look ${links(3)}`)).toEqual({ decision: 'allow' });
  });

  it('asks before a note with a link is signed during quiet hours, and not for one without', async () => {
    const rules = await loadRulePlugins([EXAMPLE_PLUGIN], EXAMPLES_DIR);
    expect(decideNote(rules, `see ${links(1)}`, THREE_AM_UTC)).toMatchObject({ decision: 'ask', rule: 'plugin:quiet-hours-links', reason: expect.stringMatching(/3:xx UTC/) });
    expect(decideNote(rules, 'gm, no links', THREE_AM_UTC)).toEqual({ decision: 'allow' });
  });

  it('denies a link-heavy note during quiet hours rather than asking', async () => {
    const rules = await loadRulePlugins([EXAMPLE_PLUGIN], EXAMPLES_DIR);
    expect(decideNote(rules, links(5), THREE_AM_UTC)).toMatchObject({ decision: 'deny', rule: 'plugin:max-links' });
  });

  it('leaves other kinds to the built-in policy', async () => {
    const rules = await loadRulePlugins([EXAMPLE_PLUGIN], EXAMPLES_DIR);
    const profile = makeEvent({ kind: 0, content: links(10), created_at: NOON_UTC });
    expect(decideVeto(profile, DEFAULT_VETO_POLICY, makeCtx({ nowSec: NOON_UTC }), rules)).toMatchObject({ decision: 'ask', rule: 'ask_kind' });
  });

  it('builds rules with custom numbers, including quiet hours across midnight', async () => {
    const module: { createLinkGuardRules(options: object): VetoRule[] } = await import(pathToFileURL(`${EXAMPLES_DIR}${EXAMPLE_PLUGIN}`).href);
    const rules = assertPluginModule({ rules: module.createLinkGuardRules({ maxLinks: 1, quietFromHourUtc: 22, quietToHourUtc: 7 }) }, 'custom');
    const elevenPm = NOW_SEC + 15 * 3600;
    expect(decideNote(rules, links(2))).toMatchObject({ decision: 'deny', rule: 'plugin:max-links' });
    expect(decideNote(rules, links(1), elevenPm)).toMatchObject({ decision: 'ask', rule: 'plugin:quiet-hours-links' });
    expect(decideNote(rules, links(1), NOW_SEC)).toEqual({ decision: 'allow' });
  });

  it('refuses the same rule name twice', async () => {
    const error = await configErrorOf(loadRulePlugins([EXAMPLE_PLUGIN, `./${EXAMPLE_PLUGIN}`], EXAMPLES_DIR));
    expect(error.message).toMatch(/rule name "max-links" is already used/);
  });
});

describe('loadRulePlugins with bad modules', () => {
  it('refuses a module without `rules`, naming its path', async () => {
    const error = await configErrorOf(loadRulePlugins(['no-rules.mjs'], FIXTURES_DIR));
    expect(error.field).toBe(`${FIXTURES_DIR}no-rules.mjs`);
    expect(error.message).toMatch(/must export `rules`/);
  });

  it('refuses a module that is missing, naming its path', async () => {
    const error = await configErrorOf(loadRulePlugins(['missing.mjs'], FIXTURES_DIR));
    expect(error.field).toBe(`${FIXTURES_DIR}missing.mjs`);
    expect(error.message).toMatch(/cannot import rule plugin/);
  });

  it('refuses a module that throws while loading, naming its path', async () => {
    const error = await configErrorOf(loadRulePlugins(['throws-on-import.mjs'], FIXTURES_DIR));
    expect(error.field).toBe(`${FIXTURES_DIR}throws-on-import.mjs`);
    expect(error.message).toMatch(/plugin exploded at import/);
  });

  const badShapes: Array<{ name: string; loaded: unknown; field: string }> = [
    { name: 'rules that are not an array', loaded: { rules: { name: 'x' } }, field: 'mod.mjs' },
    { name: 'an empty rules array', loaded: { rules: [] }, field: 'mod.mjs' },
    { name: 'a rule that is not an object', loaded: { rules: ['x'] }, field: 'mod.mjs#rules[0]' },
    { name: 'a rule without a name', loaded: { rules: [{ evaluate: () => ({ decision: 'allow' }) }] }, field: 'mod.mjs#rules[0].name' },
    { name: 'a rule name with spaces', loaded: { rules: [{ name: 'two words', evaluate: () => ({ decision: 'allow' }) }] }, field: 'mod.mjs#rules[0].name' },
    { name: 'a rule without evaluate', loaded: { rules: [{ name: 'ok', evaluate: () => ({ decision: 'allow' }) }, { name: 'lazy' }] }, field: 'mod.mjs#rules[1].evaluate' },
  ];

  it.each(badShapes)('refuses $name, naming the field', ({ loaded, field }) => {
    let thrown: unknown;
    try {
      assertPluginModule(loaded, 'mod.mjs');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ field });
  });
});

describe('plugin rules that misbehave', () => {
  it('denies when a rule throws, edits the event or answers asynchronously, and leaves the event intact', async () => {
    const [explodes, editsEvent, asyncRule] = await loadRulePlugins(['failing-rules.mjs'], FIXTURES_DIR);
    const event = makeEvent({ content: 'original' });
    expect(decideVeto(event, DEFAULT_VETO_POLICY, makeCtx(), [explodes!])).toEqual({ decision: 'deny', rule: 'plugin:explodes', reason: 'rule explodes failed' });
    expect(decideVeto(event, DEFAULT_VETO_POLICY, makeCtx(), [editsEvent!])).toEqual({ decision: 'deny', rule: 'plugin:edits-event', reason: 'rule edits-event failed' });
    expect(decideVeto(event, DEFAULT_VETO_POLICY, makeCtx(), [asyncRule!])).toMatchObject({ decision: 'deny', rule: 'plugin:async-rule', reason: 'rule async-rule failed (invalid verdict)' });
    expect(event).toEqual(makeEvent({ content: 'original' }));
  });

  it('denies an async rule whose promise rejects, without an unhandled rejection', async () => {
    const [, , , asyncThrows] = await loadRulePlugins(['failing-rules.mjs'], FIXTURES_DIR);
    expect(decideVeto(makeEvent(), DEFAULT_VETO_POLICY, makeCtx(), [asyncThrows!])).toMatchObject({ decision: 'deny', rule: 'plugin:async-throws' });
    await new Promise((resolve) => setTimeout(resolve, 10)); // let the rejection surface if unhandled
  });
});
