package e2e

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// The invariant these methods keep: a test fails if the component link of a
// harness it uses was re-authenticated or lost while it ran, unless the test
// caused that on purpose through restartServer or stopServer. The link
// reconnects by itself, so a server that closed the component's stream
// (after hostile client input, say) would otherwise go unnoticed although
// every member lost live delivery until the link came back. A component
// process that is stopped and started again (restartComponent, or stop and
// startComponent) needs no excuse: the new process's first authentication
// is its start, not a relink.

// linkSettle is how long a check waits before reading the link events: the
// component writes the line saying its link was lost a little after the
// server closed the stream, and the harness reads it from a pipe. Without
// the wait, a drop a test caused at its very end would be charged to the
// next test on the same shared harness.
const linkSettle = 200 * time.Millisecond

// watch makes t fail if the component link of h is re-authenticated or lost
// from now until t ends, other than through restartServer or stopServer.
// Every way a test obtains or uses a harness calls it (privateHarness,
// pushHarness, login), so that a test cannot forget it; calling it again in
// the same test does nothing.
func (h *harness) watch(t *testing.T) {
	h.mu.Lock()
	if h.watched[t] {
		h.mu.Unlock()
		return
	}
	if h.watched == nil {
		h.watched = map[*testing.T]bool{}
	}
	h.watched[t] = true
	h.mu.Unlock()
	mark := h.links.Mark()
	t.Cleanup(func() {
		h.mu.Lock()
		delete(h.watched, t)
		h.mu.Unlock()
		time.Sleep(linkSettle)
		if r := h.links.Since(mark); !r.OK() {
			t.Errorf("%s: without a restart the test declared (h.restartServer, h.stopServer), %s", t.Name(), r)
		}
	})
}

// restartServer restarts the XMPP server and waits until the component has
// authenticated again; the loss and the relink this causes are the test's
// own doing and do not fail it. Later ones still do.
func (h *harness) restartServer(t *testing.T) {
	t.Helper()
	h.watch(t)
	mark := h.links.Mark()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := h.srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// The component reconnects by itself, with backoff.
	waitFor(t, "the component to authenticate again after the server restarted", func() bool {
		return h.links.Since(mark).Relinks > 0
	})
	h.links.Excuse(mark)
}

// stopServer stops the XMPP server for good and waits until the component
// has noticed; that loss is the test's own doing and does not fail it. With
// the server gone the link cannot come back.
func (h *harness) stopServer(t *testing.T) {
	t.Helper()
	h.watch(t)
	mark := h.links.Mark()
	if err := h.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the component to log that its link was lost", func() bool {
		return len(h.links.Since(mark).Lost) > 0
	})
	h.links.Excuse(mark)
}

// restartComponent stops the component with sig (SIGTERM: a clean shutdown;
// SIGKILL: a crash) and starts a new process on the same data directory.
func (h *harness) restartComponent(t *testing.T, sig syscall.Signal) {
	t.Helper()
	h.comp.stop(sig)
	comp, err := h.startComponent()
	if err != nil {
		t.Fatal(err)
	}
	h.comp = comp
}

// linksHeld is the check of a harness shared by several tests at the end of
// the run: it catches what no test's own check saw (a drop while no test
// watched, or that came after a test had ended). It prints why and returns
// false if the link was re-established or lost at any time.
func linksHeld(name string, h *harness) bool {
	if h == nil {
		return true
	}
	time.Sleep(linkSettle)
	if r := h.links.Since(0); !r.OK() {
		fmt.Printf("e2e: FAIL: over the whole run on the %s harness, which no test may restart, %s\n"+
			"e2e: (a test's own failure above names it if the test was using the harness then)\n", name, r)
		return false
	}
	return true
}
