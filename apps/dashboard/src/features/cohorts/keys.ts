/** Keys from a file: one per line (.txt), or the first column (.csv, whose header row is skipped
 *  when its first cell is "key"); blank lines are skipped. */
export function keysOf(text: string, csv: boolean): string[] {
  const keys: string[] = [];
  const lines = text.split(/\r?\n/);
  if (csv && /^"?key"?$/i.test((lines[0] ?? '').split(',')[0].trim())) lines.shift();
  for (const line of lines) {
    let key = csv ? line.split(',')[0] : line;
    key = key.trim();
    if (csv && key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1).replaceAll('""', '"');
    if (key !== '') keys.push(key);
  }
  return keys;
}
