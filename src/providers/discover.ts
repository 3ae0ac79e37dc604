/**
 * Model discovery: each provider kind's own model list, read from the host (never from a sandbox).
 * OpenAI-compatible servers and Anthropic answer `GET /v1/models` (`data[].id`), Gemini
 * `GET /v1beta/models` (`models[].name`, "models/…"), Ollama `GET /api/tags` (`models[].name`).
 */
import { CorralError } from '../errors.js';
import type { ProviderKind } from './store.js';

interface ListRecipe {
  path: string;
  headers: (key: string) => Record<string, string>;
  ids: (body: unknown) => string[];
}

const dataIds = (body: unknown) =>
  ((body as { data?: { id?: unknown }[] }).data ?? []).map((m) => m.id).filter(isString);
const modelNames = (body: unknown) =>
  ((body as { models?: { name?: unknown }[] }).models ?? []).map((m) => m.name).filter(isString);
const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

const RECIPES: Record<ProviderKind, ListRecipe> = {
  openai: { path: '/v1/models', headers: (k) => ({ authorization: `Bearer ${k}` }), ids: dataIds },
  anthropic: {
    path: '/v1/models',
    headers: (k) => ({ 'x-api-key': k, 'anthropic-version': '2023-06-01' }),
    ids: dataIds,
  },
  gemini: {
    path: '/v1beta/models',
    headers: (k) => ({ 'x-goog-api-key': k }),
    ids: (b) => modelNames(b).map((n) => n.replace(/^models\//, '')),
  },
  ollama: { path: '/api/tags', headers: (k) => ({ authorization: `Bearer ${k}` }), ids: modelNames },
};

/** The header an agent's request carries the key in, per kind (the gateway swaps it in there). */
export const KEY_HEADER: Record<ProviderKind, 'authorization' | 'x-api-key' | 'x-goog-api-key'> = {
  openai: 'authorization',
  anthropic: 'x-api-key',
  gemini: 'x-goog-api-key',
  ollama: 'authorization',
};

/** The endpoint's model ids, sorted. Errors name the URL and the status, never the key. */
export async function discoverModels(
  kind: ProviderKind,
  url: string,
  key: string | undefined,
  timeoutMs = 10_000,
): Promise<string[]> {
  const recipe = RECIPES[kind];
  const target = `${url}${recipe.path}`;
  let res: Response;
  try {
    res = await fetch(target, {
      headers: { accept: 'application/json', ...(key ? recipe.headers(key) : {}) },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const why = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
    throw new CorralError(
      'PROVIDER_UNREACHABLE',
      `Cannot list the models of ${target}: ${why}`,
      'Check the URL and that the endpoint is up; `--no-discover` adds the provider without its list.',
    );
  }
  if (!res.ok) {
    throw new CorralError(
      'PROVIDER_UNREACHABLE',
      `${target} answered ${res.status} ${res.statusText} to the model list request.`,
      res.status === 401 || res.status === 403
        ? 'The key was refused: set it again with `corral provider add NAME … --key-from-env VAR`.'
        : `Is this a ${kind} endpoint? Pick another --kind (${Object.keys(RECIPES).join(', ')}).`,
    );
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new CorralError(
      'PROVIDER_UNREACHABLE',
      `${target} did not answer with JSON.`,
      `Is this a ${kind} endpoint?`,
    );
  }
  return [...new Set(recipe.ids(body))].sort();
}
