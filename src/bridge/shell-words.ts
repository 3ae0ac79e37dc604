/**
 * A small sh-like word splitter for the danger check: quotes group words; `;` `&&` `||` `|` `&`,
 * newlines and substitutions start new simple commands. It errs towards splitting, never towards
 * hiding a command inside another.
 */
export interface Segment {
  words: string[];
  /** The operator that ended this segment ('|' for a pipe, '<(' / '$(' for a substitution). */
  sep: string;
}

/** Split into simple commands. Redirections stay in place as '>' or '<' followed by their target. */
export function tokenize(cmd: string): Segment[] {
  const segs: Segment[] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endSeg = (sep: string) => {
    endWord();
    if (words.length) segs.push({ words, sep });
    else if (segs.length && sep) segs[segs.length - 1]!.sep ||= sep;
    words = [];
  };
  for (let i = 0; i < cmd.length; ) {
    const c = cmd[i]!;
    const next = cmd[i + 1];
    if (quote === "'") {
      if (c === "'") quote = '';
      else word += c;
      i++;
    } else if (quote === '"') {
      if (c === '"') quote = '';
      else if (c === '\\' && next !== undefined) {
        word += next;
        i++;
      } else if (c === '`' || (c === '$' && next === '(')) {
        // A substitution inside quotes still runs a command: read on as if the quote had ended.
        quote = '';
        endSeg('$(');
        if (c === '$') i++;
      } else word += c;
      i++;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      i++;
    } else if (c === '\\') {
      if (next !== undefined && next !== '\n') {
        word += next;
        inWord = true;
      }
      i += 2;
    } else if (c === '$' && next === '(') {
      endSeg('$(');
      i += 2;
    } else if (c === '\n' || c === ';' || c === '(' || c === ')' || c === '`') {
      endSeg(c === '`' ? '$(' : ';');
      i++;
    } else if (c === '&' && next === '>') {
      endWord();
      i++;
    } else if (c === '&' || c === '|') {
      const op = next === c ? c + c : c;
      endSeg(op);
      i += op.length;
    } else if (c === '>' || c === '<') {
      if (inWord && /^\d+$/.test(word)) {
        word = '';
        inWord = false;
      } else endWord();
      i++;
      while (cmd[i] === '>' || cmd[i] === '&' || cmd[i] === '|') i++;
      if (cmd[i] === '(') {
        endSeg('<(');
        i++;
      } else words.push(c);
    } else if (/\s/.test(c)) {
      endWord();
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  endSeg('');
  return segs;
}
