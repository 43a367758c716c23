// Package service is the group chat component's behaviour: it turns each
// incoming stanza into a domain command or query, decides commands against
// the group's state in per-group order, appends the resulting events to the
// event store, answers queries, and hands each projected event to the
// broadcaster (xmpp/broadcast), which sends members what the protocol
// defines (so broadcasts resume from the projection checkpoint after a
// restart).
//
// Concurrency: groups are spread over shards; one goroutine per shard
// decides that shard's commands in arrival order and appends them in
// batches, so a busy group costs one durable commit per batch rather than
// per message. Broadcasting runs on the projector's goroutine.
package service
