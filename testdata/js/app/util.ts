// A module of the test app's own, imported by index.ts: bundling follows
// relative imports as wrangler's does.
export function jsonOf(v: unknown, status = 200): Response {
  return Response.json(v, { status });
}
