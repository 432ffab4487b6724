/**
 * The shell every page of the authorization server shares (sign-in, consent, errors): one
 * document, inline CSS the CSP allows, light and dark themes at WCAG AA contrast — and the error
 * page, which the authorization endpoint and the sign-in pages both show.
 */
import { escapeHtml as e } from './http.js';

const STYLE = `
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:16px;line-height:1.5;color:#1f2328;background:#eef1f5}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:24px 16px}
main{width:100%;max-width:440px;background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:32px;box-shadow:0 1px 3px rgba(31,35,40,.08)}
.brand{margin:0 0 20px;font-size:.875rem;font-weight:600;letter-spacing:.04em;text-transform:uppercase;color:#4d5966}
h1{margin:0 0 8px;font-size:1.5rem;line-height:1.25}
p{margin:0 0 16px}
.lead{color:#3b434c}
dl{margin:0 0 20px;padding:16px;background:#f6f8fa;border:1px solid #d8dee4;border-radius:8px;display:grid;grid-template-columns:max-content 1fr;gap:6px 16px}
dt{font-weight:600;color:#3b434c}
dd{margin:0;overflow-wrap:anywhere}
ul.scopes{margin:0;padding-left:20px}
fieldset.scopes{margin:0 0 16px;padding:8px 16px 12px;border:1px solid #d8dee4;border-radius:8px}
legend{font-weight:600;padding:0 4px}
.scope{display:flex;align-items:center;gap:8px;margin:4px 0}
.scope label{display:inline;font-weight:400;margin:0}
input[type=checkbox]{width:18px;height:18px;margin:0;accent-color:#0b57d0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem;background:#eef1f5;border-radius:4px;padding:1px 4px}
label{display:block;font-weight:600;margin:0 0 4px}
input[type=text],input[type=password]{display:block;width:100%;padding:10px 12px;margin:0 0 16px;font:inherit;color:#1f2328;background:#fff;border:1px solid #6e7781;border-radius:6px}
.actions{display:flex;gap:12px;flex-wrap:wrap;margin-top:8px}
button{font:inherit;font-weight:600;padding:10px 18px;border-radius:6px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}
button:hover{background:#0842a0;border-color:#0842a0}
button.secondary{background:#fff;color:#1f2328;border-color:#6e7781}
button.secondary:hover{background:#f3f4f6}
button.link{background:none;border:none;padding:0;color:#0b57d0;text-decoration:underline;font-weight:400}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
input:focus-visible{outline-offset:0}
.alert{padding:12px 14px;margin:0 0 16px;border-radius:6px;border:1px solid #cf222e;background:#ffebe9;color:#82071e}
.muted{font-size:.875rem;color:#4d5966}
.switch{margin:16px 0 0}
.host{overflow-wrap:anywhere}
@media (prefers-color-scheme:dark){
html{color:#e6edf3;background:#0d1117}
main{background:#161b22;border-color:#30363d}
.brand,.muted,dt,.lead{color:#b1bac4}
dl{background:#0d1117;border-color:#30363d}
fieldset.scopes{border-color:#30363d}
input[type=checkbox]{accent-color:#4493f8}
code{background:#21262d}
input[type=text],input[type=password]{color:#e6edf3;background:#0d1117;border-color:#8b949e}
button{background:#4493f8;border-color:#4493f8;color:#0d1117}
button:hover{background:#79b8ff;border-color:#79b8ff}
button.secondary{background:#21262d;color:#e6edf3;border-color:#8b949e}
button.link{color:#79b8ff}
:focus-visible{outline-color:#79b8ff}
.alert{background:#490202;border-color:#f85149;color:#ffdcd7}
}`;

/**
 * Wraps page content in the shared document. The empty `data:` icon (allowed by the CSP's
 * `img-src`) keeps browsers from fetching `/favicon.ico`, a 404 that shows as a console error.
 */
export function layout(brand: string, title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${e(title)} · ${e(brand)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="brand">${e(brand)}</p>
${body}
</main>
</body>
</html>
`;
}

/** A page for a request that cannot continue (and cannot safely be redirected), optionally naming its OAuth error code. */
export function renderErrorPage(brand: string, title: string, message: string, code?: string): string {
  const codeLine = code === undefined ? '' : `\n<p class="muted">Error code: <code>${e(code)}</code></p>`;
  return layout(
    brand,
    title,
    `<h1>${e(title)}</h1>
<p role="alert">${e(message)}</p>${codeLine}
<p class="muted">You can close this window and start again from the application.</p>`,
  );
}
