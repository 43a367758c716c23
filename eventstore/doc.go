// Package eventstore is the contract between the service and its event log:
// per-group streams with optimistic concurrency and caller-chosen event ids,
// a global position order, and catch-up subscriptions. Backends live in
// sub-packages (sqlite, kurrent) and all pass the conformance suite in
// eventstore/storetest.
package eventstore
