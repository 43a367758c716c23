// Package shard decides the requests about groups. Groups are hashed onto
// a fixed number of shards; each shard's one goroutine takes its queue in
// batches, decides every request in arrival order on the group's state
// (domain.Decide on the state an aggregate.Repository keeps), appends the
// batch's events of every group concurrently (aggregate.Batch), and
// answers what is answered from a group's state: group queries, refusals,
// a resend's original, a room's entry and administration. So a group's
// commands never race, and what is decided is durable before anyone hears
// of it (broadcasts follow the projector, package broadcast).
package shard
