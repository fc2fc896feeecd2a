/**
 * Finds the words a TypeScript module would show people without the catalog: string and template literals
 * that read as text (two words, or one capitalized word like `Next`), `say` templates with words, outside
 * comments, imports, log lines and thrown errors. A small lexer, not a parser: good enough for our own code,
 * and its own tests show what it catches.
 */

export interface Literal {
  /** 1-based line. */
  line: number;
  /** The static text (a template's parts between `${…}` joined by `…`). */
  value: string;
  /** The tag of a tagged template (`say`), if any. */
  tag: string | undefined;
}

const IDENTIFIER = /[\p{L}\p{N}_$]/u;
/** After one of these, a `/` starts a regular expression rather than a division. */
const REGEX_BEFORE = new Set([
  '(',
  ',',
  '=',
  ':',
  '[',
  '!',
  '&',
  '|',
  '?',
  '{',
  '}',
  ';',
  '+',
  '-',
  '*',
  '%',
  '<',
  '>',
  '~',
  '^',
  '',
]);
const REGEX_AFTER_WORDS = new Set(['return', 'typeof', 'case', 'of', 'in', 'void', 'throw', 'new', 'delete']);

/** Every string and template literal of `source` (comments and regular expressions skipped). */
export function literalsOf(source: string): Array<Literal & { start: number }> {
  const out: Array<Literal & { start: number }> = [];
  let i = 0;
  let line = 1;
  const lastSignificant = (): { char: string; word: string } => {
    let j = i - 1;
    while (j >= 0 && /\s/.test(source[j] ?? '')) j--;
    const char = source[j] ?? '';
    let k = j;
    while (k >= 0 && IDENTIFIER.test(source[k] ?? '')) k--;
    return { char, word: source.slice(k + 1, j + 1) };
  };
  const advance = (n = 1) => {
    for (let k = 0; k < n; k++) if (source[i + k] === '\n') line++;
    i += n;
  };
  // Reads a template from its backtick; nested `${…}` expressions are lexed recursively.
  const readTemplate = (): string => {
    advance();
    let value = '';
    while (i < source.length && source[i] !== '`') {
      if (source[i] === '\\') {
        value += source.slice(i, i + 2);
        advance(2);
      } else if (source[i] === '$' && source[i + 1] === '{') {
        advance(2);
        let depth = 1;
        while (i < source.length && depth > 0) {
          const before = i;
          step();
          if (i === before) {
            if (source[i] === '{') depth++;
            if (source[i] === '}') depth--;
            if (depth > 0) advance();
          }
        }
        advance();
        value += '…';
      } else {
        value += source[i];
        advance();
      }
    }
    advance();
    return value;
  };
  // One token of code: a comment, a literal, a regular expression, or nothing (the caller moves on).
  const step = (): void => {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') advance();
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      advance((end < 0 ? source.length : end + 2) - i);
    } else if (c === "'" || c === '"') {
      const start = i;
      const startLine = line;
      advance();
      let value = '';
      while (i < source.length && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\') {
          value += source.slice(i, i + 2);
          advance(2);
        } else {
          value += source[i];
          advance();
        }
      }
      advance();
      out.push({ line: startLine, value, tag: undefined, start });
    } else if (c === '`') {
      const start = i;
      const startLine = line;
      // A tag is written right against its backtick (`say\`…\``).
      const { word } = lastSignificant();
      const tag = word !== '' && IDENTIFIER.test(source[i - 1] ?? '') ? word : undefined;
      const value = readTemplate();
      out.push({ line: startLine, value, tag, start });
    } else if (c === '/') {
      const { char, word } = lastSignificant();
      if (REGEX_BEFORE.has(char) || REGEX_AFTER_WORDS.has(word)) {
        advance();
        let inClass = false;
        while (i < source.length && source[i] !== '\n') {
          if (source[i] === '\\') advance(2);
          else {
            if (source[i] === '[') inClass = true;
            else if (source[i] === ']') inClass = false;
            else if (source[i] === '/' && !inClass) break;
            advance();
          }
        }
        advance();
      }
    }
  };
  while (i < source.length) {
    const before = i;
    step();
    if (i === before) advance();
  }
  return out;
}

/** Text people would read: words with a space between them, or one capitalized word (`Next`, `Cancel`). */
export function readsAsText(value: string): boolean {
  const words = value
    .replace(/:[a-z0-9_+-]+:/g, ' ') // emoji codes
    .replace(/…/g, ' ')
    .trim();
  // A command as typed (`/nasha snapshot …`, `/as bob`) is the grammar, the same in every language.
  if (/^\/[a-z-]+(\s|$)/.test(words)) return false;
  return /\p{L}{2,}[\s\u00a0]+\p{L}/u.test(words) || /^\p{Lu}\p{Ll}{2,}[.!?]?$/u.test(words);
}

/** Calls whose strings are for logs, errors and tests, never for people. */
const NOT_FOR_PEOPLE = /(?:logger\??\.(?:trace|debug|info|warn|error|fatal)|new Error|describe|it)\s*\($/;

/** The literal is an argument of such a call (found by walking back to the unclosed `(` it is in). */
function inCallNotForPeople(source: string, start: number): boolean {
  let depth = 0;
  for (let j = start - 1; j >= 0; j--) {
    const c = source[j];
    if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '(' || c === '[' || c === '{') {
      if (depth === 0) {
        if (c !== '(') return false;
        return NOT_FOR_PEOPLE.test(source.slice(Math.max(0, j - 40), j + 1));
      }
      depth--;
    } else if (c === ';' && depth === 0) return false;
  }
  return false;
}

/** User-facing words written in the module instead of the catalog. */
export function strayWords(source: string, allowed: ReadonlyArray<string | RegExp> = []): Literal[] {
  const isAllowed = (value: string) =>
    allowed.some((entry) => (typeof entry === 'string' ? entry === value : entry.test(value)));
  return literalsOf(source)
    .filter((literal) => {
      if (isAllowed(literal.value)) return false;
      const before = source.slice(Math.max(0, literal.start - 12), literal.start);
      if (/\b(from|import)\s*\(?\s*$/.test(before)) return false;
      if (literal.tag === 'say') return /\p{L}/u.test(literal.value);
      if (!readsAsText(literal.value)) return false;
      return !inCallNotForPeople(source, literal.start);
    })
    .map(({ line, value, tag }) => ({ line, value, tag }));
}
