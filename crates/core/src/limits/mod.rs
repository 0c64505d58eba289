//! Limits on keys: Portkey's `rate_limits` and `usage_limits` shapes, checked, and the
//! arithmetic of reserving at admission and settling at completion.
