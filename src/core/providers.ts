/**
 * `corral provider …`: named model endpoints, their keys (host store only) and their models.
 * Inputs are plain values; a key the caller read (flag, env, prompt, stdin) comes in as a string and
 * never goes out again: nothing here returns, logs or exports it.
 */
import { AGENTS } from '../agents/index.js';
import { CorralError } from '../errors.js';
import {
  checkProviderName,
  deleteProvider,
  discoverModels,
  getProvider,
  listProviders,
  normalizeProviderUrl,
  PROVIDER_KINDS,
  type Provider,
  type ProviderKind,
  providerKey,
  saveProvider,
  servesAgent,
  storeProviderKey,
} from '../providers/index.js';
import type { CoreContext } from './context.js';

export { PROVIDER_KINDS, type ProviderKind };

/** A provider as shown to users: never the key, only whether one is stored. */
export interface ProviderView extends Provider {
  key: boolean;
  /** Built-in agents that speak its API. */
  agents: string[];
}

export interface AddProviderInput {
  name: string;
  kind: string;
  url: string;
  key?: string | undefined;
  /** The default model; must be in the discovered list when there is one. */
  model?: string | undefined;
  /** Skip reading the model list (an endpoint not up yet). */
  discover?: boolean | undefined;
  /** Replace a provider of the same name. */
  force?: boolean | undefined;
}

function checkKind(kind: string): ProviderKind {
  if ((PROVIDER_KINDS as readonly string[]).includes(kind)) return kind as ProviderKind;
  throw new CorralError(
    'BAD_INPUT',
    `Unknown provider kind "${kind}".`,
    `Use one of ${PROVIDER_KINDS.join(', ')} (openai: any OpenAI-compatible endpoint).`,
  );
}

async function view(p: Provider): Promise<ProviderView> {
  return {
    ...p,
    key: Boolean(await providerKey(p.name)),
    agents: AGENTS.filter((a) => servesAgent(p.kind, a)).map((a) => a.name),
  };
}

function pickDefault(name: string, models: string[], wanted: string | undefined): string | undefined {
  if (wanted && models.length && !models.includes(wanted)) {
    throw new CorralError(
      'BAD_INPUT',
      `The endpoint of "${name}" lists no model "${wanted}".`,
      `Its models: ${models.slice(0, 20).join(', ')}${models.length > 20 ? ', …' : ''}.`,
    );
  }
  return wanted ?? models[0];
}

export async function addProvider(ctx: CoreContext, input: AddProviderInput): Promise<ProviderView> {
  const name = checkProviderName(input.name);
  const kind = checkKind(input.kind);
  const url = normalizeProviderUrl(input.url);
  if (!input.force && (await listProviders()).some((p) => p.name === name)) {
    throw new CorralError(
      'BAD_INPUT',
      `A provider named "${name}" exists already.`,
      `Replace it with --force, or remove it first: corral provider remove ${name}`,
    );
  }
  const models = input.discover === false ? [] : await discoverModels(kind, url, input.key);
  const provider: Provider = {
    name,
    kind,
    url,
    models,
    defaultModel: pickDefault(name, models, input.model),
    ...(input.discover === false ? {} : { refreshedAt: new Date().toISOString() }),
  };
  if (input.key) {
    const where = await storeProviderKey(name, input.key);
    ctx.note(
      `corral: the key of "${name}" is kept in ${where === 'keyring' ? 'the keyring' : "corral's data folder (0600)"}`,
    );
  }
  await saveProvider(provider);
  return view(provider);
}

export async function providerList(): Promise<ProviderView[]> {
  return Promise.all((await listProviders()).map(view));
}

export async function providerModels(name: string): Promise<{ models: string[]; defaultModel?: string }> {
  const p = await getProvider(name);
  return { models: p.models, ...(p.defaultModel ? { defaultModel: p.defaultModel } : {}) };
}

/** Read the model lists again (one provider, or all); a default model that went away is reported. */
export async function refreshProviders(
  ctx: CoreContext,
  input: { name?: string | undefined; model?: string | undefined },
): Promise<ProviderView[]> {
  const targets = input.name ? [await getProvider(input.name)] : await listProviders();
  const out: ProviderView[] = [];
  for (const p of targets) {
    const models = await discoverModels(p.kind, p.url, await providerKey(p.name));
    const wanted = input.model ?? p.defaultModel;
    let defaultModel = wanted;
    if (input.model) defaultModel = pickDefault(p.name, models, input.model);
    else if (wanted && !models.includes(wanted)) {
      ctx.note(`corral: ${p.name} no longer lists ${wanted}; its default is now ${models[0] ?? 'none'}`);
      defaultModel = models[0];
    } else defaultModel ??= models[0];
    const next = { ...p, models, defaultModel, refreshedAt: new Date().toISOString() };
    await saveProvider(next);
    out.push(await view(next));
  }
  return out;
}

export async function removeProvider(name: string): Promise<boolean> {
  return deleteProvider(checkProviderName(name));
}

/** The portable form: everything but the key (and the machine-local refresh time). */
export interface ExportedProvider {
  name: string;
  kind: ProviderKind;
  url: string;
  default_model?: string;
  models: string[];
  /** Whether the source had a key: import asks for one then. */
  needs_key: boolean;
}

export async function exportProviders(
  names: string[],
): Promise<{ corral_providers: 1; providers: ExportedProvider[] }> {
  const all = names.length ? await Promise.all(names.map(getProvider)) : await listProviders();
  return {
    corral_providers: 1,
    providers: await Promise.all(
      all.map(async (p) => ({
        name: p.name,
        kind: p.kind,
        url: p.url,
        ...(p.defaultModel ? { default_model: p.defaultModel } : {}),
        models: p.models,
        needs_key: Boolean(await providerKey(p.name)),
      })),
    ),
  };
}

export interface ImportProvidersInput {
  /** The exported document, parsed. */
  document: unknown;
  /** Asked once per provider that needs a key; undefined leaves it without one. */
  askKey: (provider: ExportedProvider) => Promise<string | undefined>;
  force?: boolean | undefined;
}

function parseExport(doc: unknown): ExportedProvider[] {
  const d = doc as { corral_providers?: unknown; providers?: unknown };
  if (d?.corral_providers !== 1 || !Array.isArray(d.providers)) {
    throw new CorralError(
      'BAD_INPUT',
      'Not a corral provider export: expected {"corral_providers": 1, "providers": [...]}.',
      'Make one with `corral provider export > providers.json`.',
    );
  }
  return d.providers.map((raw, i) => {
    const p = raw as Partial<ExportedProvider> & { key?: unknown };
    const where = `providers[${i}]`;
    if (typeof p.name !== 'string' || typeof p.url !== 'string' || typeof p.kind !== 'string') {
      throw new CorralError('BAD_INPUT', `${where}: expected name, kind and url (strings).`);
    }
    if ('key' in p) {
      throw new CorralError('BAD_INPUT', `${where}.key: an export never carries a key; import asks for it.`);
    }
    return {
      name: checkProviderName(p.name),
      kind: checkKind(p.kind),
      url: normalizeProviderUrl(p.url),
      ...(typeof p.default_model === 'string' ? { default_model: p.default_model } : {}),
      models: Array.isArray(p.models) ? p.models.filter((m): m is string => typeof m === 'string') : [],
      needs_key: p.needs_key !== false,
    };
  });
}

export async function importProviders(
  ctx: CoreContext,
  input: ImportProvidersInput,
): Promise<ProviderView[]> {
  const incoming = parseExport(input.document);
  const existing = new Set((await listProviders()).map((p) => p.name));
  const clash = incoming.find((p) => existing.has(p.name));
  if (clash && !input.force) {
    throw new CorralError(
      'BAD_INPUT',
      `A provider named "${clash.name}" exists already.`,
      'Replace existing ones with --force, or remove them first.',
    );
  }
  const out: ProviderView[] = [];
  for (const p of incoming) {
    const key = p.needs_key ? await input.askKey(p) : undefined;
    if (key) await storeProviderKey(p.name, key);
    const provider: Provider = {
      name: p.name,
      kind: p.kind,
      url: p.url,
      models: p.models,
      defaultModel: p.default_model,
    };
    await saveProvider(provider);
    if (p.needs_key && !key) ctx.note(`corral: ${p.name} imported without a key`);
    out.push(await view(provider));
  }
  return out;
}
