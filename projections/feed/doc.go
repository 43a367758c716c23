// Package feed serves an event store's global log to a watermill router: a
// message.Subscriber over eventstore.Store.Subscribe.
//
// Each watermill message carries a batch of recorded events in position
// order (up to Options.MaxEvents): what one Subscription.Recv returned,
// split if larger. Catching up, that is a page of the log; live, it is
// whatever committed while the previous batch was being handled. A consumer
// can so apply many events in one transaction, and the batch is the unit of
// acknowledgement. Events(msg) decodes the batch; every event keeps its ID,
// stream, version, position, type, data, metadata and recording time. The
// message metadata says how many events the batch holds and the positions
// of its first and last, for logs and middleware that should not decode.
//
// Delivery is one message at a time: the next batch is sent only after the
// current one is acked. A nacked batch is sent again, after a delay that
// doubles up to a limit, so a consumer failing for a transient reason
// (a busy disk) is retried without spinning. Where a subscription starts
// comes from Options.After, asked again on every Subscribe, so a consumer
// that keeps its own checkpoint resumes exactly after it.
package feed
