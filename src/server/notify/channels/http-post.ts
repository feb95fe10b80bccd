// Posting a JSON document to a webhook URL (generic, Slack/Mattermost, Teams). The URL is the
// channel's secret: failures name the channel, never the URL.
import { isRetryableStatus, readBody, RequestError, send } from '../../../net/http.ts';
import { ChannelError, redact } from './channel.ts';

export async function postJson(
  url: URL,
  body: string,
  o: { headers?: Record<string, string>; timeoutMs: number; secrets: readonly string[] },
): Promise<void> {
  let status: number;
  let text: string;
  try {
    const answer = await send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'patchloop-notify', ...o.headers },
      body,
      timeoutMs: o.timeoutMs,
    });
    status = answer.statusCode;
    text = (await readBody(answer, 'webhook', o.timeoutMs)).toString('utf8');
  } catch (err) {
    const reason = err instanceof RequestError ? err.reason : (err as Error).message;
    const retryable = !(err instanceof RequestError) || err.kind === 'network' || err.kind === 'timeout';
    throw new ChannelError(redact(reason, o.secrets), retryable);
  }
  if (status >= 200 && status < 300) return;
  const said = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  throw new ChannelError(redact(`HTTP ${status}${said ? `: ${said}` : ''}`, o.secrets), isRetryableStatus(status));
}
