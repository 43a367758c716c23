//go:build unix

package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the server under test: with GODAEMON_TEST_MODE
// set it behaves as one of the servers below instead of running the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("GODAEMON_TEST_MODE"); mode != "" {
		serve(mode, os.Getenv("GODAEMON_TEST_LOG"), os.Getenv("GODAEMON_TEST_PORT"), os.Getenv("GODAEMON_TEST_PIDFILE"))
		return
	}
	os.Exit(m.Run())
}

// serve runs a fake server: it listens on 127.0.0.1:port and logs a marker
// line, or misbehaves as mode says.
func serve(mode, logPath, port, pidfile string) {
	logf := func(format string, args ...any) {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			os.Exit(2)
		}
		fmt.Fprintf(f, format+"\n", args...)
		f.Close()
	}
	switch mode {
	case "exit":
		fmt.Fprintln(os.Stderr, "boom: no configuration")
		os.Exit(3)
	case "bind":
		logf("Failed to bind 127.0.0.1:%s", port)
		time.Sleep(time.Hour)
	case "silent":
		time.Sleep(time.Hour)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		os.Exit(2)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	switch mode {
	case "late-marker":
		// Listening already, but not ready until the marker is logged.
		time.Sleep(300 * time.Millisecond)
		logf("ready on %s", port)
		time.Sleep(time.Hour)
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		logf("ready on %s", port)
		time.Sleep(time.Hour)
	case "pidfile":
		// Removes its pidfile on SIGTERM, then idles instead of exiting.
		if err := os.WriteFile(pidfile, []byte(strconv.Itoa(os.Getpid())), 0o640); err != nil {
			os.Exit(2)
		}
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		logf("ready on %s", port)
		<-term
		os.Remove(pidfile)
		time.Sleep(time.Hour)
	default:
		logf("ready on %s", port)
		time.Sleep(time.Hour)
	}
}

// spec returns a Spec that runs the test binary as a fake server in mode.
func spec(t *testing.T, mode string) Spec {
	t.Helper()
	ports, err := FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := strconv.Itoa(ports[0])
	s := Spec{
		Name:        "fake",
		LogPath:     filepath.Join(dir, "fake.log"),
		ConsolePath: filepath.Join(dir, "fake.console.log"),
		Addrs:       []string{Loopback(ports[0])},
		Markers:     []string{"ready on " + port},
		BindFailed: func(log, _ []byte) bool {
			return strings.Contains(string(log), "Failed to bind")
		},
		Ports:       "port " + port,
		StopTimeout: time.Minute,
		PIDFile:     filepath.Join(dir, "fake.pid"),
	}
	s.Cmd = exec.Command(os.Args[0])
	s.Cmd.Env = append(os.Environ(),
		"GODAEMON_TEST_MODE="+mode,
		"GODAEMON_TEST_LOG="+s.LogPath,
		"GODAEMON_TEST_PORT="+port,
		"GODAEMON_TEST_PIDFILE="+s.PIDFile,
	)
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestStartWaitsAndStopEnds(t *testing.T) {
	for _, mode := range []string{"ready", "late-marker", "pidfile"} {
		t.Run(mode, func(t *testing.T) {
			s := spec(t, mode)
			p, err := Start(testCtx(t), s)
			if err != nil {
				t.Fatal(err)
			}
			if log := Tail(s.LogPath, 10); !strings.Contains(log, s.Markers[0]) {
				t.Errorf("Start returned before the marker was logged; log: %q", log)
			}
			pid := p.PID()
			if pid != s.Cmd.Process.Pid {
				t.Errorf("PID = %d, want %d", pid, s.Cmd.Process.Pid)
			}
			select {
			case <-p.Done():
				t.Fatal("Done closed while running")
			default:
			}
			if err := p.Stop(); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			<-p.Done()
			if got := p.PID(); got != 0 {
				t.Errorf("PID after Stop = %d, want 0", got)
			}
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process %d still there after Stop: %v", pid, err)
			}
		})
	}
}

func TestStartFails(t *testing.T) {
	tests := []struct {
		mode     string
		timeout  time.Duration
		wantBind bool
		want     []string
	}{
		{"exit", time.Minute, false, []string{"fake: exited during startup: exit status 3", "boom: no configuration"}},
		{"bind", time.Minute, true, []string{"fake: fake could not bind its ports (port ", "Failed to bind"}},
		{"silent", 500 * time.Millisecond, false, []string{"fake: not accepting connections on 127.0.0.1:", context.DeadlineExceeded.Error()}},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			s := spec(t, tc.mode)
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			p, err := Start(ctx, s)
			if err == nil {
				p.Stop()
				t.Fatal("Start succeeded")
			}
			if got := errors.Is(err, ErrBind); got != tc.wantBind {
				t.Errorf("errors.Is(err, ErrBind) = %v, want %v: %v", got, tc.wantBind, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			// The failed process was stopped.
			if err := syscall.Kill(s.Cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process still there after a failed Start: %v", err)
			}
		})
	}
}

func TestStopKillsAfterTimeout(t *testing.T) {
	s := spec(t, "ignore-term")
	s.StopTimeout = 300 * time.Millisecond
	p, err := Start(testCtx(t), s)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Stop()
	if err == nil || !strings.Contains(err.Error(), "fake: did not exit within 300ms of SIGTERM; killed") {
		t.Fatalf("Stop = %v, want a kill after the timeout", err)
	}
	<-p.Done()
}

func TestStopRunsOnStop(t *testing.T) {
	s := spec(t, "ready")
	var gotPID int
	var afterRan bool
	var exitedBeforeAfter bool
	s.OnStop = func(pid int) func() {
		gotPID = pid
		return func() {
			afterRan = true
			exitedBeforeAfter = syscall.Kill(pid, 0) != nil
		}
	}
	p, err := Start(testCtx(t), s)
	if err != nil {
		t.Fatal(err)
	}
	pid := p.PID()
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if gotPID != pid || !afterRan || !exitedBeforeAfter {
		t.Errorf("OnStop saw pid %d (want %d), after ran %v, after the exit %v", gotPID, pid, afterRan, exitedBeforeAfter)
	}
}

func TestNilProcess(t *testing.T) {
	var p *Process
	if p.PID() != 0 {
		t.Error("PID of nil process is not 0")
	}
	select {
	case <-p.Done():
	default:
		t.Error("Done of nil process is not closed")
	}
}

func TestRetry(t *testing.T) {
	bind := fmt.Errorf("x: %w", ErrBind)
	other := errors.New("other")
	tests := []struct {
		name      string
		attempts  int
		results   []error
		wantCalls int
		want      error
	}{
		{"first succeeds", 5, []error{nil}, 1, nil},
		{"bind then success", 5, []error{bind, bind, nil}, 3, nil},
		{"other error stops", 5, []error{bind, other, nil}, 2, other},
		{"attempts run out", 3, []error{bind, bind, bind, nil}, 3, bind},
		{"one attempt", 1, []error{bind, nil}, 1, bind},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := Retry(context.Background(), tc.attempts, time.Millisecond, func() error {
				calls++
				return tc.results[calls-1]
			})
			if calls != tc.wantCalls || err != tc.want {
				t.Errorf("Retry: %d calls, %v; want %d, %v", calls, err, tc.wantCalls, tc.want)
			}
		})
	}
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		err := Retry(ctx, 10, time.Millisecond, func() error {
			calls++
			cancel()
			return bind
		})
		if calls != 1 || err != bind {
			t.Errorf("Retry after cancel: %d calls, %v", calls, err)
		}
	})
}

func TestTail(t *testing.T) {
	tests := []struct {
		content string
		n       int
		want    string
	}{
		{"", 3, ""},
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\nc", 5, "a\nb\nc"},
		{"a\n\n\n", 1, "a"},
		{"  x  \ny\n", 2, "x  \ny"},
	}
	for _, tc := range tests {
		path := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(path, []byte(tc.content), 0o640); err != nil {
			t.Fatal(err)
		}
		if got := Tail(path, tc.n); got != tc.want {
			t.Errorf("Tail(%q, %d) = %q, want %q", tc.content, tc.n, got, tc.want)
		}
	}
	if got := Tail(filepath.Join(t.TempDir(), "missing"), 3); got != "" {
		t.Errorf("Tail of a missing file = %q", got)
	}
}

func TestReadFrom(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("0123456789"), 0o640); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		off, limit int64
		want       string
	}{
		{0, 0, "0123456789"},
		{4, 0, "456789"},
		{2, 3, "789"},
		{8, 5, "89"},
		{10, 0, ""},
	}
	for _, tc := range tests {
		if got := string(readFrom(path, tc.off, tc.limit)); got != tc.want {
			t.Errorf("readFrom(%d, %d) = %q, want %q", tc.off, tc.limit, got, tc.want)
		}
	}
}

func TestFreePorts(t *testing.T) {
	ports, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v are not distinct and positive", ports)
		}
		seen[p] = true
		l, err := net.Listen("tcp", Loopback(p))
		if err != nil {
			t.Fatalf("port %d not free: %v", p, err)
		}
		l.Close()
	}
}

func TestCurrent(t *testing.T) {
	var c Current
	if c.PID() != 0 || c.Stop() != nil {
		t.Fatal("an empty Current has a pid or fails to stop")
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done of an empty Current is not closed")
	}
	s := spec(t, "ready")
	p, err := Start(testCtx(t), s)
	if err != nil {
		t.Fatal(err)
	}
	c.Set(p)
	done := c.Done()
	if c.PID() != s.Cmd.Process.Pid {
		t.Errorf("PID = %d, want %d", c.PID(), s.Cmd.Process.Pid)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	<-done
	if c.PID() != 0 {
		t.Error("PID after Stop is not 0")
	}
	// The stopped process is forgotten: stopping again is not an error.
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStartOnFreePorts(t *testing.T) {
	bind := fmt.Errorf("x: %w", ErrBind)
	tests := []struct {
		name      string
		ports     []int
		results   []error
		wantCalls int
	}{
		{"all given", []int{1000, 1001}, []error{bind, nil}, 1},
		{"some picked", []int{0, 1001}, []error{nil}, 1},
		{"picked again on bind", []int{0, 0}, []error{bind, bind, nil}, 3},
		{"five attempts", []int{1000, 0}, []error{bind, bind, bind, bind, bind, nil}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ports := append([]int(nil), tc.ports...)
			ptrs := make([]*int, len(ports))
			for i := range ports {
				ptrs[i] = &ports[i]
			}
			calls := 0
			err := StartOnFreePorts(context.Background(), "fake", ptrs, func() error {
				calls++
				for i, p := range ports {
					if tc.ports[i] != 0 && p != tc.ports[i] {
						t.Errorf("given port %d changed to %d", tc.ports[i], p)
					}
					if p == 0 {
						t.Errorf("port %d not picked", i)
					}
				}
				return tc.results[calls-1]
			})
			if calls != tc.wantCalls {
				t.Errorf("%d calls, want %d", calls, tc.wantCalls)
			}
			if want := tc.results[calls-1]; err != want {
				t.Errorf("error %v, want %v", err, want)
			}
		})
	}
}
