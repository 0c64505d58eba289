// The shapes the gateway's JSON APIs answer with (see crates/server/src/observe/logs_api and
// control/admin). Only the fields the dashboard reads.

export interface Attempt {
  reason: 'initial' | 'retry' | 'fallback' | 'skipped' | 'sticky' | 'failed_open' | string;
  target_path?: string;
  provider?: string | null;
  model?: string | null;
  status?: number;
  latency_ms?: number;
  start_offset_ms?: number;
  error_class?: string | null;
  retry?: number;
  backoff_ms?: number;
  /** Skipped targets: open, half_open, cooling, no_headroom, limited, unsupported. */
  state?: string;
  /** Skipped targets: the virtual key the target names, and what an unsupported one cannot do. */
  virtual_key?: string | null;
  why?: string;
  until_ms?: number | null;
  group_path?: string;
  first_choice?: string;
}

export interface LogRecord {
  id: string;
  created_at: number;
  trace_id: string | null;
  span_id: string | null;
  metadata: Record<string, unknown>;
  api_key_id: string | null;
  config_slug: string | null;
  config_version: number | null;
  strategy_mode: string | null;
  target_path: string | null;
  provider: string;
  virtual_key: string | null;
  requested_model: string;
  served_model: string | null;
  status: number;
  latency_ms: number;
  ttfb_ms: number | null;
  stream: boolean;
  retry_count: number;
  cache_status: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cost_usd: number | null;
  unpriced: boolean;
  request_body?: string | null;
  response_body?: string | null;
  attempts: Attempt[];
  error: string | null;
  error_class: string | null;
  feedback?: Feedback[];
}

export interface Feedback {
  id: string;
  trace_id: string;
  value: number;
  weight: number;
  metadata: Record<string, unknown> | null;
  created_at: number;
}

export interface Page<T> {
  object: 'list';
  data: T[];
  next_cursor?: string | null;
  total?: number;
}

export interface ConfigView {
  id: string;
  slug: string;
  name: string;
  config: unknown;
  version: number;
  version_id: string;
  status: string;
  created_at: string;
  last_updated_at: string;
}

export interface ConfigVersion {
  version: number;
  version_id: string;
  config: unknown;
  current: boolean;
  created_at: string;
}

export interface Limit {
  type: string;
  unit: string;
  value: number;
}

export interface UsageLimits {
  credit_limit?: number;
  alert_threshold?: number;
  periodic_reset?: string;
  [k: string]: unknown;
}

export interface VirtualKeyView {
  id: string;
  slug: string;
  name: string;
  provider: string;
  note: string | null;
  masked_api_key: string;
  model_config: Record<string, unknown>;
  usage_limits: UsageLimits | null;
  rate_limits: Limit[] | null;
  status: string;
  created_at: string;
  last_updated_at: string;
}

export interface ApiKeyView {
  id: string;
  name: string;
  scope: 'admin' | 'gateway';
  masked_api_key: string;
  allowed_configs: string[];
  allowed_virtual_keys: string[];
  default_config: string | null;
  rate_limits: Limit[] | null;
  usage_limits: UsageLimits | null;
  status: string;
  created_at: string;
  revoked_at: string | null;
  key?: string;
}

export interface TargetHealth {
  id: string;
  provider: string;
  credential: string;
  destination: string;
  model: string;
  state: string;
  until_ms: number | null;
  successes: number;
  failures: number;
  cooldown_until_ms: number | null;
  headroom: { requests: Quota | null; tokens: Quota | null };
  last_status: number | null;
  last_error: string | null;
}

export interface Quota {
  remaining: number;
  limit: number | null;
  reset_at_ms: number | null;
}

export interface ValidationError {
  path: string;
  message: string;
}

export interface SeriesPoint {
  start: number;
  key: string | null;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  latency_ms: { p50: number; p99: number };
}

export interface SummaryRow {
  key: string | null;
  requests: number;
  errors: number;
  unpriced: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  latency_ms: { p50: number; p95: number; p99: number };
}
