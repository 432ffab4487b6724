/**
 * The device verification pages (RFC 8628 §3.3): the form where the user types the code shown
 * on the device, and the page that ends the flow. Plain HTML, no JavaScript, values escaped.
 */
import { escapeHtml as e } from '../../http.js';
import { layout } from '../../html-page.js';

/** Shown when the code expired or was decided (in another tab) before the user finished. */
export const EXPIRED_DEVICE_MESSAGE = 'This code has expired or was already used. Start again on your device to get a new code.';
/** Shown for a code that is not a live one: the same text whether it never existed, expired or was used. */
export const WRONG_CODE_MESSAGE = 'That code is not valid or has expired. Check the code on your device and try again.';
/** Shown for input that cannot be a code (not counted as a guess). */
export const MALFORMED_CODE_MESSAGE = 'Enter the 8 letters shown on your device, for example BCDF-GHJK.';

/** What the code form shows. */
export interface DeviceCodeView {
  brand: string;
  /** Absolute URL the form posts to (the verification URI). */
  action: string;
  /** Prefilled code (from `verification_uri_complete`, or what the user typed), shown again for confirmation. */
  userCode?: string;
  error?: string;
}

/** The form asking for the user code. A prefilled code still needs the user's click (RFC 8628 §5.4). */
export function renderDeviceCodePage(view: DeviceCodeView): string {
  const error = view.error === undefined ? '' : `<p class="alert" role="alert">${e(view.error)}</p>\n`;
  return layout(
    view.brand,
    'Connect a device',
    `<h1>Connect a device</h1>
<p class="lead">Enter the code shown on the device or application you are signing in to.</p>
${error}<form method="post" action="${e(view.action)}">
<label for="user_code">Code</label>
<input type="text" id="user_code" name="user_code" value="${e(view.userCode ?? '')}" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="32" required>
<p class="muted">Only continue if you started this sign-in yourself and the code is on your own device's screen. Never enter a code someone sent you.</p>
<div class="actions">
<button type="submit">Continue</button>
</div>
</form>`,
  );
}

/** The end of the flow: back to the device. */
export function renderDeviceDonePage(brand: string, clientName: string, approved: boolean): string {
  const title = approved ? 'Device connected' : 'Request denied';
  const text = approved
    ? `<p role="status">${e(clientName)} is now allowed. Return to your device: it continues on its own.</p>`
    : `<p role="status">${e(clientName)} was not allowed access. Your device will be told.</p>`;
  return layout(brand, title, `<h1>${e(title)}</h1>\n${text}\n<p class="muted">You can close this window.</p>`);
}
