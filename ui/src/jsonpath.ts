// Where each value of a JSON text starts, by the validator's path spelling
// (`config.targets[0].weight`), so an error can point at its line. A small scanner, not a
// parser: it gives up quietly on text that is not JSON (JSON.parse reports that).

export function locate(text: string, root = 'config'): Map<string, number> {
  const at = new Map<string, number>();
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    try {
      return JSON.parse(text.slice(start, i));
    } catch {
      return '';
    }
  };
  const value = (path: string, depth: number): void => {
    if (depth > 64) throw new Error('too deep');
    ws();
    at.set(path, i);
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      while (i < text.length) {
        ws();
        if (text[i] !== '"') throw new Error('key');
        const keyAt = i;
        const key = str();
        ws();
        if (text[i] !== ':') throw new Error(':');
        i++;
        const child = `${path}.${key}`;
        value(child, depth + 1);
        // The key's line reads better than the value's for a multi-line value.
        at.set(child, keyAt);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else throw new Error('object');
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; i < text.length; n++) {
        value(`${path}[${n}]`, depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else throw new Error('array');
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && /[^\s,\]}]/.test(text[i])) i++;
    }
  };
  try {
    value(root, 0);
  } catch {
    // Partial map: what was found before the text stopped being JSON.
  }
  return at;
}

/** 1-based line of `offset`. */
export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

/** The line an error's path points at: the path itself, or its nearest parent that exists. */
export function lineForPath(text: string, path: string, map = locate(text)): number | null {
  let p = path;
  while (p) {
    const offset = map.get(p);
    if (offset !== undefined) return lineOf(text, offset);
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) break;
    p = p.slice(0, cut);
  }
  return null;
}

/** A JSON.parse error's line, from the position its message gives. */
export function syntaxLine(text: string, err: Error): number | null {
  const line = /line (\d+)/.exec(err.message);
  if (line) return Number(line[1]);
  const pos = /position (\d+)/.exec(err.message);
  return pos ? lineOf(text, Number(pos[1])) : null;
}
