// Package metrics instruments the daemon for Prometheus without reaching
// into its hot code: decorators around the event store (appends and their
// latency), the link's outgoing side (fan-out stanzas, errors by condition)
// and its incoming side (catch-up requests), and gauges read on each scrape
// (online resources, projection lag, groups). The names and meanings are
// listed in the README.
package metrics
