"""Components shipped with convex-py, each a client class beside its component folder (as
Convex's packages split `src/client` and `src/component`): `rate_limiter` (token bucket and
fixed window, as `@convex-dev/rate-limiter`) and `workpool` (bounded parallelism, retries with
backoff, completion callbacks, as `@convex-dev/workpool`)."""
