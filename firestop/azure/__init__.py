"""Azure access: one client factory, credentials, polling/retry policy, error mapping."""
