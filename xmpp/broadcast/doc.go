// Package broadcast sends members what happened in their groups: each event
// the projections have applied is rendered once and fanned out to the
// online resources of the members the protocol names for it.
//
// Broadcasts are driven by the projector rather than by the command that
// caused them, so what members see always follows what is durable, and
// after a restart broadcasting resumes from the projections' checkpoint.
//
// Each group change names the position of the group's change before it,
// so that a client can tell it missed one; the view keeps every group's
// last change for that, and Render takes it from its caller (the view for
// a broadcast, the projections for history).
//
// Concurrency: the Broadcaster's view of every group is touched only by
// Load (before the projector starts) and OnApplied (on the projector's
// goroutine). FanOut and Render read no view and may be called from any
// goroutine.
package broadcast
