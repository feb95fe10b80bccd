// Counts as people write them: "1 package", "2 packages", "0 findings". One helper for every
// message that states a count, so none says "package(s)".

/**
 * `n` and the noun in the number it takes: `counted(1, 'package')` is "1 package",
 * `counted(3, 'entry', 'entries')` is "3 entries". Numbers are grouped in thousands (12,345).
 */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
