// What the logs page shows when there is nothing to list: no match for the filters, or no request
// at all yet (then a request to send, at this gateway's own address).
import { CopyButton, Snippet } from '../components/common';
import { href, onLinkClick } from '../router';

export function NoMatch() {
  return (
    <div class="empty">
      <h2>No requests match these filters</h2>
      <p>
        Widen the time range or{' '}
        <a href={href('/logs')} onClick={(e) => onLinkClick(e, '/logs')}>
          clear the filters
        </a>
        . A trace ID must match exactly.
      </p>
    </div>
  );
}

/** JSON on one line with a space after each `,` and `:`, so it wraps between tokens. */
function oneLine(value: unknown): string {
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ').replace(/\[ /g, '[').replace(/ \]/g, ']').replace(/\{ /g, '{').replace(/ \}/g, '}');
}

/** No logs at all yet: a request to send, at this gateway's own address. */
export function FirstRequest() {
  const origin = window.location.origin;
  const config = oneLine({
    strategy: { mode: 'fallback' },
    targets: [
      { provider: 'openai', api_key: 'sk-…' },
      { provider: 'anthropic', api_key: 'sk-ant-…', override_params: { model: 'claude-3-5-haiku-latest', max_tokens: 200 } },
    ],
  });
  const curl = `curl ${origin}/v1/chat/completions \\
  -H 'content-type: application/json' \\
  -H 'x-portkey-api-key: YOUR_SWITCHBOARD_KEY' \\
  -H 'x-portkey-trace-id: my-first-request' \\
  -H 'x-portkey-config: ${config}' \\
  -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}'`;
  return (
    <div class="empty">
      <h2>No requests yet</h2>
      <p>
        Send one through this gateway and it shows up here. Put your provider keys in the config (or store them as{' '}
        <a href={href('/virtual-keys')} onClick={(e) => onLinkClick(e, '/virtual-keys')}>
          virtual keys
        </a>{' '}
        and name them with <code>virtual_key</code>), and your Switchboard API key in <code>x-portkey-api-key</code>:
      </p>
      <Snippet code={curl} label="first request curl command" />
      <p class="muted">Turn on <strong>Live tail</strong> above and the request appears the moment it is logged.</p>
      <p class="muted">
        OpenAI answers; if it fails, Anthropic takes over. SDKs work too: point the <code>portkey-ai</code> or{' '}
        <code>openai</code> SDK at <code>{origin}/v1</code>. <CopyButton text={`${origin}/v1`} label="Copy base URL" />
      </p>
    </div>
  );
}
