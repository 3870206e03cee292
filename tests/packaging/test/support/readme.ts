import { readFileSync } from 'node:fs';

/** The first ```lang code block after the heading `## heading` of a Markdown file (the first in the file without a heading). */
export function codeBlock(file: string, lang: string, heading?: string): string {
  const text = readFileSync(file, 'utf8');
  const from = heading === undefined ? 0 : text.search(new RegExp(`^#+ ${heading}$`, 'm'));
  if (from < 0) throw new Error(`${file} has no heading "${heading}"`);
  const block = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'm').exec(text.slice(from));
  if (!block) throw new Error(`${file} has no \`\`\`${lang} block${heading ? ` after "${heading}"` : ''}`);
  return block[1]!;
}

/** Splits a snippet into its import lines and the rest. */
export function splitImports(code: string): { imports: string; body: string } {
  const lines = code.split('\n');
  return {
    imports: lines.filter((l) => /^import\s/.test(l)).join('\n'),
    body: lines.filter((l) => !/^import\s/.test(l)).join('\n'),
  };
}

/** `code` with `from` replaced by `to`, which must be there: a README that changed fails loudly here. */
export function substitute(code: string, from: string, to: string): string {
  if (!code.includes(from)) throw new Error(`the README snippet no longer contains ${from}`);
  return code.split(from).join(to);
}
