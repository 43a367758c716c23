// Package history answers the queries about what happened in groups: the
// one-round-trip catch-up (every group of the user with its counters, then
// the events after the client's position), XEP-0313 MAM on group JIDs, and
// #readers (which members have read a message). It answers them from the
// projections and the event log, never from the shards' deciding state, so
// it runs on the service's query workers after the projections caught up.
//
// The package declares what it reads (ReadModel, Log) and how it renders
// and sends (Render, Answerer.Send); package service wires its own in.
package history
