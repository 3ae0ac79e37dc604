/**
 * What an agent's own login (the files in `loginFiles`) puts inside the sandbox when corral does not
 * broker it, and whether the provider's token endpoint would let corral broker it: data for
 * `corral auth doctor`. Agents with an `oauth` spec are brokered (the sandbox holds placeholders).
 */
export interface LoginExposure {
  /** What the file holds, in words. */
  holds: string;
  /** Whether corral could broker it, and why (or why not). */
  broker: string;
}

export const LOGIN_EXPOSURE: Record<string, LoginExposure> = {
  copilot: {
    holds: 'a GitHub OAuth token (gho_) for the Copilot app, valid until revoked, with no refresh token',
    broker:
      'not by refresh (the token does not expire); pass it as -e COPILOT_GITHUB_TOKEN or GH_TOKEN instead and the gateway injects it (the sandbox sees a placeholder)',
  },
  auggie: {
    holds: 'an Augment session (access token and tenant URL), valid until revoked',
    broker:
      'no refresh endpoint; pass `auggie token print` output as -e AUGMENT_SESSION_AUTH and the gateway injects its accessToken (placeholder in the sandbox)',
  },
  opencode: {
    holds: 'provider logins and API keys (e.g. Anthropic OAuth with a refresh token, OpenAI keys)',
    broker: 'per provider; not brokered yet — pass provider keys with -e (injected by the gateway)',
  },
  kilo: { holds: 'Kilo Code provider logins and API keys', broker: 'not brokered yet' },
  pi: {
    holds: 'provider logins and API keys (OAuth tokens with refresh tokens for subscription logins)',
    broker: 'per provider; not brokered yet — pass provider keys with -e (injected by the gateway)',
  },
  codebuff: { holds: 'a Codebuff session token', broker: 'no public refresh endpoint known; not brokered' },
  devstral: {
    holds: 'a Mistral API key (.env)',
    broker: 'pass MISTRAL_API_KEY with -e instead (injected by the gateway)',
  },
  hermes: { holds: 'provider logins and API keys', broker: 'not brokered yet' },
};
