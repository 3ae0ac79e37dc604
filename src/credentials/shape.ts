/**
 * Shape checks shared by the rules. Secret scanners drown users in false positives when they trust a
 * regex alone; these checks drop values that are visibly not secrets (placeholders, documentation
 * examples, runs of one character) while keeping anything random-looking.
 */

/** Shannon entropy in bits per character. Random base62 is ~5.9; "xxxxxxxx" is 0. */
export function entropy(s: string): number {
  if (!s) return 0;
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

// Words that mark a value as documentation or a template; AWS's own docs use ...EXAMPLE keys.
const PLACEHOLDER_WORDS =
  /example|placeholder|changeme|change[_-]me|your[_-]|dummy|sample|redacted|insert|replace|fixme|todo|xxxx|\*\*\*|\.\.\./i;
const PLACEHOLDER_EXACT =
  /^(secret|password|passwd|token|key|test|testing|null|none|nil|undefined|true|false|foobar|admin|root|default|empty)$/i;

/** A token body that is plausibly machine-generated: long enough, varied, not a template. */
export function looksRandom(body: string, minEntropy = 3): boolean {
  if (PLACEHOLDER_WORDS.test(body)) return false;
  if (/(.)\1{5,}/.test(body)) return false;
  return entropy(body) >= minEntropy;
}

/** At least two of lower case, upper case and digits: prose and identifiers rarely are. */
export function mixedClasses(s: string): boolean {
  return [/[a-z]/, /[A-Z]/, /[0-9]/].filter((r) => r.test(s)).length >= 2;
}

/**
 * A configured value that is not a real secret: empty, interpolated from elsewhere (`${VAR}`,
 * `$VAR`), a `<...>` template slot, a repeated character, or a stock word. `minLength` is 8 for
 * names that merely suggest a secret (env files); files that exist only to hold credentials
 * (`.netrc`) pass 1, since a short password there is still a password.
 */
export function isPlaceholder(value: string, minLength = 8): boolean {
  const v = value.trim();
  if (!v || v.length < minLength) return true;
  if (v.includes('${') || /^\$[A-Za-z_]/.test(v) || /^%[A-Za-z_]+%$/.test(v)) return true;
  if (/^<.*>$/.test(v) || /^\{\{.*\}\}$/.test(v)) return true;
  if (PLACEHOLDER_EXACT.test(v) || PLACEHOLDER_WORDS.test(v)) return true;
  if (/^(.)\1*$/.test(v)) return true;
  return v.length >= 8 && entropy(v) < 2.5;
}

/** Strip a config value's quotes, or its trailing ` # comment` when unquoted. */
export function unquote(raw: string): string {
  const v = raw.trim();
  const q = v[0];
  if (q === '"' || q === "'" || q === '`') {
    const end = v.indexOf(q, 1);
    return end > 0 ? v.slice(1, end) : v.slice(1);
  }
  // An unquoted `#` after whitespace (or first) starts a comment, as in dotenv and INI files.
  return v.replace(/(^|\s)#.*$/, '').trim();
}

/** Preview that reveals only what is already public about the value: its fixed prefix and length. */
export function shapePreview(prefix: string, value: string): string {
  return `${prefix}… (${value.length} chars)`;
}

/** 1-based line of a character offset. */
export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
