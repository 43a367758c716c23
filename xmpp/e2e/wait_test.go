package e2e

import (
	"errors"
	"os/exec"
	"testing"
	"time"
)

// waitFor polls cond until it holds, failing the test after wait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func asExit(err error, target **exec.ExitError) bool { return errors.As(err, target) }
