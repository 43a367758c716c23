// Package broadcast sends members what happened in their groups: each event
// the projections have applied is rendered once and fanned out to the
// online resources of the members the protocol names for it.
//
// Broadcasts are driven by the projector rather than by the command that
// caused them, so what members see always follows what is durable, and
// after a restart broadcasting resumes from the projections' checkpoint.
//
// Concurrency: the Broadcaster's view of every group is touched only by
// Load (before the projector starts) and OnApplied (on the projector's
// goroutine). FanOut and Render read no view and may be called from any
// goroutine.
package broadcast
