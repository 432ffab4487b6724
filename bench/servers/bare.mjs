// `bare`: node:http answering 200 with no checks — the physical limit of this harness
// (server + load generator on this machine). The body is still read, as every variant must.
import { collectBody, ok, serve } from './common.mjs';

await serve(() => (req, res) => collectBody(req, () => ok(res)));
