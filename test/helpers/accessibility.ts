/**
 * Basic accessibility checks run inside the browser on a rendered page: what a screen reader and
 * a keyboard user need first, and WCAG 2.x text contrast computed from the styles the browser
 * actually applied (so dark mode, inheritance and the cascade count).
 *
 * The in-page code is plain JavaScript in a string: this project compiles without the DOM `lib`,
 * and a string also keeps the bundler's helpers out of what runs in the page.
 */
import type { Page } from 'playwright-core';

/** What {@link auditAccessibility} found. */
export interface AccessibilityReport {
  /** One line per failed check, naming the element; empty when the page passes. */
  problems: string[];
  /** How many visible elements with their own text had their contrast measured. */
  textElements: number;
  /** The lowest contrast ratio measured (to two decimals). */
  minContrast: number;
}

/**
 * Checks: `<html lang>`; exactly one `<h1>`; every visible non-hidden input, select and textarea
 * has a label (`label[for]`, a wrapping label, `aria-label` or `aria-labelledby`); every button has
 * an accessible name; every visible element with its own text has a contrast ratio ≥ `minRatio`
 * (default 4.5, WCAG 2.x SC 1.4.3 for normal text) between its computed colour and the effective
 * background (background colours of it and its ancestors, composited over white).
 *
 * @see https://www.w3.org/TR/WCAG21/#contrast-minimum
 * @see https://www.w3.org/TR/WCAG21/#dfn-relative-luminance
 */
export async function auditAccessibility(page: Page, minRatio = 4.5): Promise<AccessibilityReport> {
  return (await page.evaluate(`(${AUDIT})(${JSON.stringify(minRatio)})`)) as AccessibilityReport;
}

/**
 * Presses Tab `presses` times from the page's initial focus and describes where focus went each
 * time: `input#username`, `button "Sign in"`, ...
 */
export async function tabOrder(page: Page, presses: number): Promise<string[]> {
  await page.evaluate('document.activeElement && document.activeElement !== document.body && document.activeElement.blur()');
  const order: string[] = [];
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('Tab');
    order.push((await page.evaluate(DESCRIBE_FOCUS)) as string);
  }
  return order;
}

const DESCRIBE_FOCUS = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return 'body';
  const tag = el.tagName.toLowerCase();
  return tag + (el.id ? '#' + el.id : '') + (tag === 'button' ? ' "' + el.textContent.trim() + '"' : '');
})()`;

const AUDIT = `(minRatio) => {
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const visible = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.display !== 'none' && style.visibility !== 'hidden' && box.width > 0 && box.height > 0;
  };
  const textOf = (ids) => (ids || '').split(/\\s+/).filter(Boolean).map((id) => document.getElementById(id)?.textContent?.trim() ?? '').join(' ').trim();

  if (!document.documentElement.lang) problems.push('<html> has no lang');
  const h1s = document.querySelectorAll('h1').length;
  if (h1s !== 1) problems.push('expected exactly one <h1>, found ' + h1s);

  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !visible(el)) continue;
    const labelled = [...(el.labels ?? [])].some((l) => l.textContent.trim() !== '')
      || (el.getAttribute('aria-label') ?? '').trim() !== ''
      || textOf(el.getAttribute('aria-labelledby')) !== '';
    if (!labelled) problems.push(name(el) + ' has no label');
  }

  for (const el of document.querySelectorAll('button, [role=button], input[type=submit], input[type=button], input[type=reset]')) {
    const accessibleName = textOf(el.getAttribute('aria-labelledby')) || (el.getAttribute('aria-label') ?? '').trim()
      || (el.tagName === 'INPUT' ? (el.value ?? '').trim() : el.textContent.trim()) || (el.getAttribute('title') ?? '').trim();
    if (accessibleName === '') problems.push(name(el) + ' has no accessible name');
  }

  const parse = (css) => {
    const m = /^rgba?\\(([\\d.]+),\\s*([\\d.]+),\\s*([\\d.]+)(?:,\\s*([\\d.]+))?\\)$/.exec(css);
    return m ? { r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4] } : undefined;
  };
  const over = (top, below) => ({
    r: top.r * top.a + below.r * (1 - top.a),
    g: top.g * top.a + below.g * (1 - top.a),
    b: top.b * top.a + below.b * (1 - top.a),
    a: 1,
  });
  const luminance = ({ r, g, b }) => {
    const lin = (c) => { const s = c / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage !== 'none') problems.push(name(node) + ' has a background image: contrast not checked');
      const c = parse(style.backgroundColor);
      if (c === undefined) { problems.push(name(node) + ': unparsed background ' + style.backgroundColor); continue; }
      if (c.a > 0) layers.push(c);
      if (c.a === 1) break;
    }
    return layers.reverse().reduce((below, top) => over(top, below), { r: 255, g: 255, b: 255, a: 1 });
  };

  let textElements = 0;
  let minContrast = Infinity;
  for (const el of document.body.querySelectorAll('*')) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== '');
    if (!ownText || !visible(el)) continue;
    const fg = parse(getComputedStyle(el).color);
    if (fg === undefined) { problems.push(name(el) + ': unparsed colour ' + getComputedStyle(el).color); continue; }
    const bg = background(el);
    const [hi, lo] = [luminance(over(fg, bg)), luminance(bg)].sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    textElements++;
    minContrast = Math.min(minContrast, ratio);
    if (ratio < minRatio) problems.push(name(el) + ' "' + el.textContent.trim().slice(0, 40) + '": contrast ' + ratio.toFixed(2) + ':1 < ' + minRatio + ':1');
  }
  return { problems: [...new Set(problems)], textElements, minContrast: Math.round(minContrast * 100) / 100 };
}`;
