/** How a device authorization (RFC 8628 §3.3) ends on the interaction pages: approved or denied, then a page, never a redirect. */
import type { ServerResponse } from 'node:http';
import type { AsContext } from '../../context.js';
import { deviceGrantSettings } from '../../device-grant/settings.js';
import { sendHtml } from '../../http.js';
import { renderErrorPage } from '../../html-page.js';
import { noteClientUsed } from '../register/limits.js';
import { EXPIRED_DEVICE_MESSAGE, renderDeviceDonePage } from '../device-verification/pages.js';
import type { Interaction } from './send-page.js';

/**
 * Records the user's decision on the device code behind a `take`n interaction (so it is decided
 * once), then tells the user to return to the device — or that the code had expired meanwhile.
 */
export async function finishDevice(
  ctx: AsContext,
  res: ServerResponse,
  interaction: Interaction,
  decision: { approved: true; subject: string; scopes: string[]; authTime: number } | { approved: false },
): Promise<void> {
  const { pending, client } = interaction;
  const store = deviceGrantSettings(ctx).store;
  const decided = pending.device !== undefined && store !== undefined && (await store.decide(pending.device.userCodeHash, decision, ctx.now()));
  if (!decided) return sendHtml(res, 400, renderErrorPage(ctx.loginTitle, 'Code expired', EXPIRED_DEVICE_MESSAGE));
  // The consent itself was audited by the page that took it.
  if (decision.approved) await noteClientUsed(ctx, client);
  else {
    ctx.audit({ type: 'device.denied', clientId: client.clientId, ...(pending.subject !== undefined && { subject: pending.subject }) });
  }
  sendHtml(res, 200, renderDeviceDonePage(ctx.loginTitle, client.clientName ?? client.clientId, decision.approved));
}
