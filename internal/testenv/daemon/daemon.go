package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrBind marks a start that failed because the server could not bind one
// of its ports, so that a caller that picked them can retry with others.
var ErrBind = errors.New("could not bind its ports")

// Spec describes a server process to start.
type Spec struct {
	// Name prefixes every error, e.g. "prosody".
	Name string

	// Cmd is the command, not yet started. Start sets its Stdout, Stderr
	// and SysProcAttr.
	Cmd *exec.Cmd

	// LogPath is the server's own log file, searched for Markers and
	// BindFailed and tailed in errors. ConsolePath receives the child's
	// stdout and stderr, appended.
	LogPath, ConsolePath string

	// Addrs are the TCP addresses that must accept connections before the
	// server counts as ready.
	Addrs []string

	// Markers are lines the log must contain, written since this start,
	// before the server counts as ready: a TCP connection alone could reach
	// another process that took a freshly picked port. Leave it empty when
	// the log level does not show them.
	Markers []string

	// BindFailed reports, from the log and console written since this
	// start, whether the server failed to bind a port. Ports describes them
	// in that error, e.g. "ports 5222, 5347".
	BindFailed func(log, console []byte) bool
	Ports      string

	// StopTimeout is how long Stop waits after SIGTERM before killing.
	StopTimeout time.Duration

	// PIDFile, if set, is a file the server removes once it has finished
	// shutting down. If it exists when Stop sends SIGTERM, its removal
	// ends the wait: the process gets 100 ms more to exit by itself and is
	// then killed, since nothing is left for it to do.
	PIDFile string

	// OnStop, if set, is called with the pid just before Stop sends
	// SIGTERM; the function it returns is called once the process has
	// exited, e.g. to reap helper processes that are not in its group.
	OnStop func(pid int) (after func())
}

// Current holds the current process of a server that is stopped and
// started again, for concurrent use. The zero value holds none.
type Current struct {
	mu sync.Mutex
	p  *Process
}

// Set makes p the current process.
func (c *Current) Set(p *Process) {
	c.mu.Lock()
	c.p = p
	c.mu.Unlock()
}

// PID returns the process id of the current process, or 0 if there is none
// or it has exited.
func (c *Current) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.p.PID()
}

// Done returns a channel that is closed when the current process exits; if
// there is none, the channel is already closed.
func (c *Current) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.p.Done()
}

// Stop stops the current process, if any, and forgets it; see
// Process.Stop. With none it returns nil.
func (c *Current) Stop() error {
	c.mu.Lock()
	p := c.p
	c.p = nil
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.Stop()
}

// Process is a server process started by Start.
type Process struct {
	spec Spec
	done chan struct{} // closed when the process has exited
	err  error         // result of Wait; valid after done is closed
}

// Start starts s.Cmd and waits until the server is ready: s.Markers are in
// its log and every address in s.Addrs accepts a TCP connection. ctx bounds
// only this wait, not the life of the process. On failure the process is
// stopped and the error includes the tails of the log and the console; it
// wraps ErrBind if s.BindFailed saw a port that could not be bound.
func Start(ctx context.Context, s Spec) (*Process, error) {
	logStart := fileSize(s.LogPath)
	consoleStart := fileSize(s.ConsolePath)
	out, err := os.OpenFile(s.ConsolePath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	cmd := s.Cmd
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	p := &Process{spec: s, done: make(chan struct{})}

	// The parent-death signal (Linux) fires when the OS thread that forked
	// the child exits, not the process. Keep that thread locked and alive
	// until the child exits.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	if err := <-started; err != nil {
		out.Close()
		return nil, fmt.Errorf("%s: starting %s: %w", s.Name, cmd.Path, err)
	}
	if err := p.waitReady(ctx, logStart, consoleStart); err != nil {
		_ = p.Stop()
		return nil, err
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context, logStart, consoleStart int64) error {
	s := p.spec
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		log := readFrom(s.LogPath, logStart, 0)
		if s.BindFailed != nil && s.BindFailed(log, readFrom(s.ConsolePath, consoleStart, 0)) {
			return fmt.Errorf("%s: %s %w (%s)%s", s.Name, s.Name, ErrBind, s.Ports, p.tails(logStart, consoleStart))
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s: exited during startup: %v%s", s.Name, p.err, p.tails(logStart, consoleStart))
		default:
		}
		ready := true
		for _, m := range s.Markers {
			if !bytes.Contains(log, []byte(m)) {
				ready = false
				break
			}
		}
		for i := 0; ready && i < len(s.Addrs); i++ {
			c, err := net.DialTimeout("tcp", s.Addrs[i], 250*time.Millisecond)
			if err != nil {
				ready = false
				break
			}
			c.Close()
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not accepting connections on %s: %w%s",
				s.Name, strings.Join(s.Addrs, " and "), ctx.Err(), p.tails(logStart, consoleStart))
		case <-p.done:
		case <-tick.C:
		}
	}
}

// tails renders the output written since a start, for error messages.
func (p *Process) tails(logStart, consoleStart int64) string {
	var b strings.Builder
	if t := tail(readFrom(p.spec.LogPath, logStart, 64<<10), 40); t != "" {
		fmt.Fprintf(&b, "\n--- tail of %s ---\n%s", p.spec.LogPath, t)
	}
	if t := tail(readFrom(p.spec.ConsolePath, consoleStart, 64<<10), 20); t != "" {
		fmt.Fprintf(&b, "\n--- tail of %s ---\n%s", p.spec.ConsolePath, t)
	}
	return b.String()
}

// PID returns the process id, or 0 if p is nil or the process has exited.
func (p *Process) PID() int {
	if p == nil {
		return 0
	}
	select {
	case <-p.done:
		return 0
	default:
		return p.spec.Cmd.Process.Pid
	}
}

// Done returns a channel that is closed when the process exits, for
// whatever reason. If p is nil the channel is already closed.
func (p *Process) Done() <-chan struct{} {
	if p == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return p.done
}

// Stop terminates the process with SIGTERM and waits for it to exit,
// killing it after Spec.StopTimeout. It returns an error if the process had
// to be killed, exited with a failure other than the signal, or had already
// died with a failure before Stop was called.
func (p *Process) Stop() error {
	s := p.spec
	select {
	case <-p.done:
		// Exited before we asked.
		if p.err != nil {
			return fmt.Errorf("%s: had already exited: %w", s.Name, p.err)
		}
		return nil
	default:
	}
	proc := s.Cmd.Process
	if s.OnStop != nil {
		if after := s.OnStop(proc.Pid); after != nil {
			defer after()
		}
	}
	var pidfile <-chan time.Time // polls for the pidfile's removal, if any
	if s.PIDFile != "" {
		if _, err := os.Stat(s.PIDFile); err == nil {
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			pidfile = tick.C
		}
	}
	_ = proc.Signal(syscall.SIGTERM)
	t := time.NewTimer(s.StopTimeout)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			if p.err != nil && !isSignalExit(p.err, syscall.SIGTERM) {
				return fmt.Errorf("%s: exit after SIGTERM: %w", s.Name, p.err)
			}
			return nil
		case <-t.C:
			_ = proc.Kill()
			<-p.done
			return fmt.Errorf("%s: did not exit within %v of SIGTERM; killed", s.Name, s.StopTimeout)
		case <-pidfile:
			if _, err := os.Stat(s.PIDFile); !errors.Is(err, fs.ErrNotExist) {
				continue
			}
			// The server removed its pidfile after cleaning up; it may
			// still idle in its event loop until its next timer (Prosody:
			// about a second when clients were connected at SIGTERM).
			// Nothing is left to do, so do not wait for it.
			select {
			case <-p.done:
			case <-time.After(100 * time.Millisecond):
				_ = proc.Kill()
				<-p.done
			}
			if p.err != nil && !isSignalExit(p.err, syscall.SIGTERM) && !isSignalExit(p.err, syscall.SIGKILL) {
				return fmt.Errorf("%s: exit after SIGTERM: %w", s.Name, p.err)
			}
			return nil
		}
	}
}

// Retry calls start up to attempts times while it fails with ErrBind,
// pausing between attempts, and returns its last result. It gives up early
// when ctx is done.
func Retry(ctx context.Context, attempts int, pause time.Duration, start func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = start()
		if err == nil || !errors.Is(err, ErrBind) || attempt >= attempts || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// StartOnFreePorts sets each of ports that is zero to a port free on
// 127.0.0.1 and calls start. While start fails with ErrBind (another process
// took a picked port in the meantime), it picks those ports again and
// retries, up to 5 attempts in all. Ports given as non-zero are kept, and
// with none to pick start is called once. name prefixes the error of
// picking ports.
func StartOnFreePorts(ctx context.Context, name string, ports []*int, start func() error) error {
	var pick []*int
	for _, p := range ports {
		if *p == 0 {
			pick = append(pick, p)
		}
	}
	attempts := 1
	if len(pick) > 0 {
		attempts = 5
	}
	return Retry(ctx, attempts, 0, func() error {
		if len(pick) > 0 {
			free, err := FreePorts(len(pick))
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			for i, p := range pick {
				*p = free[i]
			}
		}
		return start()
	})
}

// Loopback returns "127.0.0.1:port".
func Loopback(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// FreePorts returns n distinct TCP ports that were free on 127.0.0.1 a
// moment ago.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("picking a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Tail returns the last n lines of the file at path, reading at most its
// last MiB; "" if it cannot be read.
func Tail(path string, n int) string {
	return tail(readFrom(path, 0, 1<<20), n)
}

func fileSize(name string) int64 {
	fi, err := os.Stat(name)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns the content of name from offset off; if limit > 0, at most
// its last limit bytes.
func readFrom(name string, off, limit int64) []byte {
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	if size := fileSize(name); limit > 0 && size-off > limit {
		off = size - limit
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(f)
	return b
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func isSignalExit(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}
