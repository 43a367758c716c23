// Package console is the daemon's local HTTP listener for operators:
// Prometheus metrics (/metrics), a health check of the store and the
// component link (/healthz), Go's profiler (/debug/pprof/, when enabled),
// and a small read-only web view of live figures, the groups and a group's
// audit trail (/, fed by /api/figures, /api/groups and /api/audit). It
// changes nothing; keep it on loopback.
package console
