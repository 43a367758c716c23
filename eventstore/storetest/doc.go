// Package storetest is the conformance suite for eventstore.Store backends.
// A backend's own tests call Run with a function that opens a fresh store;
// passing it is what lets the service swap one backend for another without
// noticing. The suite checks the contract's promises (optimistic
// concurrency, idempotent appends, dense versions, strictly increasing
// positions, gap-free catch-up subscriptions, durability across reopen), not
// any backend's internals, and it never asserts on timing. Guarantees that
// only some backends give are named in Features, as a backend's own claim:
// the suite checks what is claimed and logs what it left out.
package storetest
