// Package push wakes sleeping phones: it sends XEP-0357 push notifications
// to the app servers members registered, for messages committed while the
// member has no online resource.
//
// Settings keeps each user's push settings (registrations and notification
// level per group) as events in the user's own stream (domain.PushStream),
// folded at start and updated after each append. Notifier takes the
// messages the broadcaster hands it, coalesces them per member (Coalescer:
// at most one notification per interval, carrying the count), publishes
// them to every registration of the member on its own goroutine, correlates
// the app servers' answers by IQ id, and disables a registration whose app
// server fails too many times in a row.
package push
