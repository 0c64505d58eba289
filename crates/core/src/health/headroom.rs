//! Providers' rate-limit headers, read into "remaining until instant".
