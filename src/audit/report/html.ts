/**
 * The HTML report: one self-contained page (inline CSS, no script, no external resource — its
 * Content-Security-Policy forbids loading any), readable printed or on screen: grades, findings
 * with evidence, then every check and what became of it.
 */
import { redactPatterns } from '../redact.js';
import { AREA_NAMES, type AuditReport, type CheckOutcome, type Finding } from '../types.js';

const escape = (value: string): string =>
  redactPatterns(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const STYLE = `
:root{color-scheme:light;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--panel:#f6f8fa;--critical:#8b0000;--high:#c62828;--medium:#9a6700;--low:#0a6ebd;--info:#57606a;--pass:#1a7f37}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:72rem;margin:0 auto;padding:2rem 1.25rem 4rem}h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.25rem;margin:2.25rem 0 .75rem;border-bottom:1px solid var(--line);padding-bottom:.3rem}
h3{font-size:1.05rem;margin:0}.meta{color:var(--muted);margin:0}code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}th{background:var(--panel);font-weight:600}
.grades{display:grid;grid-template-columns:repeat(auto-fill,minmax(10.5rem,1fr));gap:.75rem;list-style:none;padding:0;margin:0}
.grades li{border:1px solid var(--line);border-radius:.5rem;padding:.6rem .8rem;background:var(--panel)}.grade{font-size:1.9rem;font-weight:700;line-height:1.1;display:block}
.g-A,.g-B{color:var(--pass)}.g-C{color:var(--medium)}.g-D{color:var(--high)}.g-F{color:var(--critical)}.g-\\-{color:var(--muted)}
.badge{display:inline-block;border-radius:.3rem;padding:.05rem .45rem;font-size:.75rem;font-weight:700;text-transform:uppercase;color:#fff;margin-right:.5rem;vertical-align:.1rem}
.s-critical{background:var(--critical)}.s-high{background:var(--high)}.s-medium{background:var(--medium)}.s-low{background:var(--low)}.s-info{background:var(--info)}
.finding{border:1px solid var(--line);border-left:.35rem solid var(--line);border-radius:.5rem;padding:.9rem 1rem;margin:0 0 1rem}
.finding.sev-critical{border-left-color:var(--critical)}.finding.sev-high{border-left-color:var(--high)}.finding.sev-medium{border-left-color:var(--medium)}.finding.sev-low{border-left-color:var(--low)}.finding.sev-info{border-left-color:var(--info)}
.finding dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.6rem 0}.finding dt{color:var(--muted)}.finding dd{margin:0}
details{margin-top:.5rem}summary{cursor:pointer;color:var(--muted)}pre{background:var(--panel);border:1px solid var(--line);border-radius:.4rem;padding:.6rem .75rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;margin:.4rem 0}
.st-passed{color:var(--pass)}.st-failed{color:var(--high);font-weight:600}.st-skipped,.st-inconclusive{color:var(--muted)}.st-error{color:var(--medium)}
a{color:#0550ae}footer{margin-top:3rem;color:var(--muted);font-size:.85rem}
@media print{details{display:block}summary{display:none}}
`;

function finding(f: Finding): string {
  const evidence = f.evidence
    .map((e, i) => `<details${i === 0 ? ' open' : ''}><summary>Evidence ${i + 1}: ${escape(e.request.split('\n')[0] ?? '')} → ${escape(e.response.split('\n')[0] ?? '')}</summary><pre aria-label="request">${escape(e.request)}</pre><pre aria-label="response">${escape(e.response)}</pre></details>`)
    .join('');
  const standards = f.standards.map((s) => `<a href="${escape(s.url)}">${escape(s.cite)}</a>`).join(', ');
  return `<article class="finding sev-${f.severity}" id="${escape(f.id)}">
<h3><span class="badge s-${f.severity}">${f.severity}</span>${escape(f.title)}</h3>
<dl><dt>Check</dt><dd><code>${escape(f.id)}</code></dd><dt>What happened</dt><dd>${escape(f.detail)}</dd><dt>At</dt><dd><code>${escape(f.location)}</code></dd><dt>Breaks</dt><dd>${standards}</dd><dt>Fix</dt><dd>${escape(f.fix)}</dd></dl>
${evidence}
</article>`;
}

function checkRow(c: CheckOutcome): string {
  return `<tr><td><code>${escape(c.id)}</code></td><td>${escape(c.title)}</td><td class="st-${c.status}">${c.status}</td><td>${c.requests}</td><td>${escape(c.reason ?? '')}</td></tr>`;
}

/** Renders the report as one self-contained HTML page. */
export function renderHtml(report: AuditReport): string {
  const grades = report.grades
    .map((g) => `<li><span class="grade g-${g.grade}" aria-label="grade ${g.grade === '-' ? 'not tested' : g.grade}">${g.grade}</span>${escape(AREA_NAMES[g.area])}<br><small>${g.tested}/${g.total} checks · ${g.findings} finding${g.findings === 1 ? '' : 's'}</small></li>`)
    .join('');
  const findings = report.findings.length === 0 ? '<p>No findings.</p>' : report.findings.map(finding).join('\n');
  const notes = report.notes.length === 0 ? '' : `<h2>Notes</h2><ul>${report.notes.map((n) => `<li>${escape(n)}</li>`).join('')}</ul>`;
  const as = report.discovered.authorizationServer;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="referrer" content="no-referrer">
<title>warden audit: ${escape(report.target)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>warden audit: <code>${escape(report.target)}</code></h1>
<p class="meta">${as ? `Authorization server <code>${escape(as)}</code> · ` : ''}${report.findings.length} finding${report.findings.length === 1 ? '' : 's'} · ${report.requests.sent} requests in ${(report.durationMs / 1000).toFixed(1)} s (rate ${report.requests.rate}/s, budget ${report.requests.budget}) · ${escape(report.startedAt)}</p>
</header>
<h2>Grades</h2>
<ul class="grades">${grades}</ul>
<h2>Findings</h2>
${findings}
<h2>Checks</h2>
<table><thead><tr><th scope="col">Check</th><th scope="col">Fails when</th><th scope="col">Result</th><th scope="col">Requests</th><th scope="col">Why</th></tr></thead>
<tbody>${report.checks.map(checkRow).join('')}</tbody></table>
${notes}
<footer>${escape(report.tool.name)} ${escape(report.tool.version)} · every token, proof, code and secret in the evidence is redacted · contacted only ${report.origins.map((o) => `<code>${escape(o)}</code>`).join(', ')}</footer>
</main>
</body>
</html>
`;
}
