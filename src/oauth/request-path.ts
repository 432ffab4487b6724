/** The path of a request target (origin-form or absolute-form), without query or fragment. */
export function requestPath(target: string): string {
  if (target.startsWith('/')) {
    const end = target.search(/[?#]/);
    return end === -1 ? target : target.slice(0, end);
  }
  try {
    return new URL(target).pathname;
  } catch {
    return target === '*' ? '*' : '/';
  }
}
