package ejabberd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/uuchat/groupchat/internal/testenv/daemon"
)

// DefaultErl is the Erlang runtime looked up in PATH when Options.Erl is
// empty.
const DefaultErl = "erl"

// File names inside Options.Dir.
const (
	ConfigFile  = "ejabberd.yml"         // generated configuration
	LogFile     = "ejabberd.log"         // ejabberd's own log (error.log lands beside it)
	ConsoleFile = "ejabberd.console.log" // the child's stdout and stderr
	SpoolDir    = "spool"                // the Mnesia directory (accounts, rosters, offline messages)
	NodeFile    = "node"                 // the Erlang node name, kept so Mnesia finds its data again
)

// How long Stop waits for ejabberd to exit after SIGTERM before killing it.
const stopTimeout = 15 * time.Second

// DefaultMaxStanzaSize is the largest stanza, in bytes, that the c2s and
// service listeners accept when Options.MaxStanzaSize is zero: 256 KiB, the
// same as Prosody's default c2s limit.
const DefaultMaxStanzaSize = 256 << 10

// DefaultComponentMaxStanzaSize is the service listener's limit: Prosody's
// default for components (component_stanza_size_limit), so that the
// component meets the same bound behind either server.
const DefaultComponentMaxStanzaSize = 512 << 10

// DefaultMulticastLimit is the multicast service's limit of addresses per
// stanza from a component when Options.MulticastLimit is zero (ejabberd's
// own default for a sender outside the host is 20).
const DefaultMulticastLimit = 100

// listenBacklog is the c2s listener's queue of connections not yet
// accepted. ejabberd's default of 5 drops the connections of many clients
// that come back at once, which then wait for their SYN to be resent
// (seconds) or fail.
const listenBacklog = 1024

// libGlobs are where Debian (and a make install) put ejabberd's Erlang
// application; the directory above ejabberd-VERSION/ goes into ERL_LIBS, as
// Debian's ejabberdctl does.
var libGlobs = []string{
	"/usr/lib/*/ejabberd-*/ebin/ejabberd.app",
	"/usr/lib/ejabberd-*/ebin/ejabberd.app",
	"/usr/lib/erlang/lib/ejabberd-*/ebin/ejabberd.app",
	"/usr/local/lib/ejabberd-*/ebin/ejabberd.app",
	"/usr/local/lib/erlang/lib/ejabberd-*/ebin/ejabberd.app",
}

// Options configures the ejabberd instance started by Start.
type Options struct {
	// Dir receives the configuration, the Mnesia spool, the node name and
	// the logs. It is created if needed. Required. Data in it survives Stop
	// and Restart, so a later Start on the same Dir sees the same accounts.
	Dir string

	// Domain is the virtual host that clients log in to, e.g.
	// "example.test". Required.
	Domain string

	// Components maps XEP-0114 external component domains to their secrets,
	// e.g. {"groupchat.example.test": "s3cret"}; all are served by one
	// ejabberd_service listener. Each component is listed in disco#items of
	// Domain: ejabberd lists subdomains of Domain by itself, others are
	// added with mod_disco's extra_domains.
	Components map[string]string

	// PubSub optionally adds a XEP-0060 service (ejabberd's mod_pubsub,
	// with the flat and pep node plugins) on this domain, e.g.
	// "push.example.test", standing in for an XEP-0357 app server. It is
	// a local route of the node, listed in disco#items of Domain like a
	// component. Only PubSubAdmins (bare JIDs) may create nodes, so a
	// publish to a missing node is refused instead of creating it; nodes
	// send no last published item on subscription or presence, as
	// Prosody's mod_pubsub does by default.
	PubSub       string
	PubSubAdmins []string

	// MUC optionally adds a XEP-0045 service (mod_muc) on this domain, e.g.
	// "conference.example.test", configured as package prosody does:
	// anyone may create rooms; new rooms are public and persistent, and
	// ejabberd does not lock them, so clients join by sending presence
	// without configuring the room first.
	MUC string

	// MUCMAM makes every room on MUC keep a XEP-0313 archive (mod_mam
	// with default "always", rooms created with mam on). It needs MUC.
	MUCMAM bool

	// MulticastLimit is the most addresses the XEP-0033 multicast service
	// (mod_multicast, enabled unless NoMulticast, at "multicast." + Domain) takes in
	// one message or presence from a sender outside Domain, such as a
	// component: its "remote" limits, stated in the service's disco#info.
	// Zero means DefaultMulticastLimit.
	MulticastLimit int
	// NoMulticast leaves mod_multicast out; MulticastDenied keeps it, but
	// its access rule refuses everyone.
	NoMulticast, MulticastDenied bool

	// C2SPort, ComponentPort and DistPort are the TCP ports on 127.0.0.1 for
	// clients, external components and Erlang distribution (which Ctl and
	// Register use to reach the node; no epmd is started). Zero picks a free
	// port at start. The component port is opened only if Components is not
	// empty.
	C2SPort, ComponentPort, DistPort int

	// MaxStanzaSize is the largest stanza in bytes the c2s listener
	// accepts (max_stanza_size); zero means DefaultMaxStanzaSize.
	MaxStanzaSize int
	// ComponentMaxStanzaSize is the same for the service (component)
	// listener; zero means DefaultComponentMaxStanzaSize.
	ComponentMaxStanzaSize int

	// LogLevel is the minimum level written to the log file: "debug",
	// "info" (default), "warn" or "error".
	LogLevel string

	// Erl is the Erlang runtime. Empty means DefaultErl looked up in PATH.
	Erl string

	// LibDir is the directory holding ejabberd-VERSION/ebin, passed to
	// Erlang as ERL_LIBS. Empty means the first match of Debian's layout
	// (/usr/lib/ARCH/ejabberd-VERSION) and a few usual others.
	LibDir string
}

// Server is a running (or stopped) ejabberd node. Its methods are safe for
// concurrent use.
type Server struct {
	opts       Options // normalized: absolute Dir, ports filled in, paths resolved
	node       string  // Erlang node name, e.g. ejabberd-1a2b3c4d@127.0.0.1
	cookie     string  // Erlang cookie of this instance
	configPath string
	logPath    string
	consolePth string

	proc daemon.Current
}

// Installed reports whether the Erlang runtime is in PATH and ejabberd's
// Erlang application can be found.
func Installed() bool {
	if _, err := exec.LookPath(DefaultErl); err != nil {
		return false
	}
	_, err := findLibDir()
	return err == nil
}

// Start writes the configuration into o.Dir, starts an ejabberd node in the
// foreground as the current user (calling the Erlang runtime directly, not
// Debian's ejabberdctl, which would switch to the ejabberd system user and
// use the system-wide node and spool) and waits until ejabberd has logged
// that it started and accepts TCP connections on the c2s port and, if
// o.Components is not empty, on the component port. ctx bounds only this
// startup wait, not the life of the process: the node runs until Stop. On
// failure the error includes the tail of ejabberd's log and the node is
// stopped.
//
// When a port is zero, a free port is picked; if ejabberd then fails to bind
// it (another process took it in the meantime), Start retries with new ports.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Dir == "" {
		return nil, errors.New("ejabberd: Options.Dir is required")
	}
	if o.Domain == "" {
		return nil, errors.New("ejabberd: Options.Domain is required")
	}
	if _, err := erlLevel(o.LogLevel); err != nil {
		return nil, err
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	if o.MaxStanzaSize < 0 {
		return nil, fmt.Errorf("ejabberd: MaxStanzaSize %d is negative", o.MaxStanzaSize)
	}
	if o.ComponentMaxStanzaSize < 0 {
		return nil, fmt.Errorf("ejabberd: ComponentMaxStanzaSize %d is negative", o.ComponentMaxStanzaSize)
	}
	for d := range o.Components {
		if d == "" || d == o.Domain {
			return nil, fmt.Errorf("ejabberd: invalid component domain %q", d)
		}
	}
	if o.PubSub != "" {
		if _, isComp := o.Components[o.PubSub]; isComp || o.PubSub == o.Domain || strings.ContainsAny(o.PubSub, "@/ ") {
			return nil, fmt.Errorf("ejabberd: invalid PubSub domain %q", o.PubSub)
		}
	}
	if o.MUC != "" {
		if _, isComp := o.Components[o.MUC]; isComp || o.MUC == o.Domain || o.MUC == o.PubSub || strings.ContainsAny(o.MUC, "@/ ") {
			return nil, fmt.Errorf("ejabberd: invalid MUC domain %q", o.MUC)
		}
	}
	if o.MUCMAM && o.MUC == "" {
		return nil, errors.New("ejabberd: MUCMAM needs a MUC domain")
	}
	for _, a := range o.PubSubAdmins {
		if !isBareJID(a) {
			return nil, fmt.Errorf("ejabberd: PubSubAdmins: %q is not a bare JID (user@domain)", a)
		}
	}
	var err error
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return nil, fmt.Errorf("ejabberd: %w", err)
	}
	if o.Erl == "" {
		o.Erl = DefaultErl
	}
	if o.Erl, err = exec.LookPath(o.Erl); err != nil {
		return nil, fmt.Errorf("ejabberd: %w", err)
	}
	if o.LibDir == "" {
		if o.LibDir, err = findLibDir(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, SpoolDir), 0o750); err != nil {
		return nil, fmt.Errorf("ejabberd: %w", err)
	}
	node, err := nodeName(o.Dir)
	if err != nil {
		return nil, err
	}
	cookie, err := randomHex(16)
	if err != nil {
		return nil, err
	}

	var s *Server
	err = daemon.StartOnFreePorts(ctx, "ejabberd", []*int{&o.C2SPort, &o.ComponentPort, &o.DistPort}, func() error {
		s = &Server{
			opts:       o,
			node:       node,
			cookie:     cookie,
			configPath: filepath.Join(o.Dir, ConfigFile),
			logPath:    filepath.Join(o.Dir, LogFile),
			consolePth: filepath.Join(o.Dir, ConsoleFile),
		}
		if err := os.WriteFile(s.configPath, []byte(Config(o)), 0o640); err != nil {
			return fmt.Errorf("ejabberd: %w", err)
		}
		return s.start(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// nodeName returns the node name stored in dir, or makes up and stores a new
// one. Mnesia tags its tables with the node name, so a later start on the
// same data must use the same name; different directories get different
// names, so several instances can run at once.
func nodeName(dir string) (string, error) {
	path := filepath.Join(dir, NodeFile)
	if b, err := os.ReadFile(path); err == nil {
		if n := strings.TrimSpace(string(b)); n != "" {
			return n, nil
		}
	}
	suffix, err := randomHex(6)
	if err != nil {
		return "", err
	}
	n := "ejabberd-" + suffix + "@127.0.0.1"
	if err := os.WriteFile(path, []byte(n+"\n"), 0o640); err != nil {
		return "", fmt.Errorf("ejabberd: %w", err)
	}
	return n, nil
}

// env is the environment of every Erlang process of this instance: the
// variables Debian's ejabberdctl exports, pointed into Dir, and HOME set to
// Dir so that nothing is written into the real home directory.
func (s *Server) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "ERL_LIBS", "ERL_FLAGS", "ERL_AFLAGS", "ERL_ZFLAGS", "ERL_CRASH_DUMP", "ERL_CRASH_DUMP_BYTES",
			"EJABBERD_CONFIG_PATH", "EJABBERD_LOG_PATH", "EJABBERD_PID_PATH", "ERL_EPMD_PORT", "ERL_EPMD_ADDRESS":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+s.opts.Dir,
		"ERL_LIBS="+s.opts.LibDir,
		"ERL_CRASH_DUMP_BYTES=0",
		"EJABBERD_CONFIG_PATH="+s.configPath,
		"EJABBERD_LOG_PATH="+s.logPath,
	)
}

// distArgs are the Erlang flags that make a node use the fixed distribution
// port on loopback instead of epmd, so no epmd outlives the instance.
func (s *Server) distArgs() []string {
	return []string{
		"-setcookie", s.cookie,
		"-erl_epmd_port", strconv.Itoa(s.opts.DistPort),
		"-start_epmd", "false",
	}
}

// start launches the node and waits for readiness. Not safe for concurrent
// use: callers serialize.
func (s *Server) start(ctx context.Context) error {
	args := []string{"-name", s.node}
	args = append(args, s.distArgs()...)
	args = append(args,
		"-kernel", "inet_dist_use_interface", "{127,0,0,1}",
		// Schedulers that spin while idle take CPU from everything else
		// on a shared test machine.
		"+sbwt", "none", "+sbwtdcpu", "none", "+sbwtdio", "none",
		"-noinput",
		"-mnesia", "dir", erlString(filepath.Join(s.opts.Dir, SpoolDir)),
		"-s", "ejabberd",
	)
	cmd := exec.Command(s.opts.Erl, args...)
	cmd.Dir = s.opts.Dir
	cmd.Env = s.env()

	addrs := []string{s.C2SAddr()}
	// ejabberd logs that it started and then each listener with its port.
	// At levels that show these lines, wait for them too.
	want := []string{
		fmt.Sprintf("is started in the node '%s'", s.node),
		fmt.Sprintf("Start accepting TCP connections at 127.0.0.1:%d for ejabberd_c2s", s.opts.C2SPort),
	}
	if len(s.opts.Components) > 0 {
		addrs = append(addrs, s.ComponentAddr())
		want = append(want, fmt.Sprintf("Start accepting TCP connections at 127.0.0.1:%d for ejabberd_service", s.opts.ComponentPort))
	}
	if s.opts.LogLevel != "info" && s.opts.LogLevel != "debug" {
		want = nil
	}
	p, err := daemon.Start(ctx, daemon.Spec{
		Name:        "ejabberd",
		Cmd:         cmd,
		LogPath:     s.logPath,
		ConsolePath: s.consolePth,
		Addrs:       addrs,
		Markers:     want,
		// A listener port in use is logged; a distribution port in use
		// stops the VM before logging starts, with a message on the
		// console.
		BindFailed: func(log, console []byte) bool {
			return bytes.Contains(log, []byte("Failed to open socket at")) || bytes.Contains(console, []byte("eaddrinuse"))
		},
		Ports:       fmt.Sprintf("ports %d, %d, %d", s.opts.C2SPort, s.opts.ComponentPort, s.opts.DistPort),
		StopTimeout: stopTimeout,
		OnStop: func(pid int) func() {
			helpers := descendants(pid)
			return func() { reap(helpers) }
		},
	})
	if err != nil {
		return err
	}
	s.proc.Set(p)
	return nil
}

// LogTail returns the last n lines of ejabberd's log file.
func (s *Server) LogTail(n int) string {
	return daemon.Tail(s.logPath, n)
}

// C2SAddr returns the client-to-server address, "127.0.0.1:port".
func (s *Server) C2SAddr() string {
	return daemon.Loopback(s.opts.C2SPort)
}

// ComponentAddr returns the XEP-0114 external component address,
// "127.0.0.1:port". Nothing listens there unless Options.Components was set.
func (s *Server) ComponentAddr() string {
	return daemon.Loopback(s.opts.ComponentPort)
}

// Domain returns the virtual host clients log in to.
func (s *Server) Domain() string { return s.opts.Domain }

// Dir returns the absolute directory holding configuration, data and logs.
func (s *Server) Dir() string { return s.opts.Dir }

// Node returns the Erlang node name, e.g. "ejabberd-1a2b3c4d5e6f@127.0.0.1".
func (s *Server) Node() string { return s.node }

// LogPath returns the path of ejabberd's log file.
func (s *Server) LogPath() string { return s.logPath }

// ConfigPath returns the path of the generated configuration file.
func (s *Server) ConfigPath() string { return s.configPath }

// PID returns the process id of the running Erlang VM, or 0 if it is not
// running.
func (s *Server) PID() int {
	return s.proc.PID()
}

// Done returns a channel that is closed when the current node exits, for
// whatever reason. After Restart, call Done again for the new process. If no
// process was ever started the channel is already closed.
func (s *Server) Done() <-chan struct{} {
	return s.proc.Done()
}

// Stop terminates the node with SIGTERM (on which the Erlang VM shuts down
// in order, closing Mnesia's files) and waits for it and its helper
// processes (erl_child_setup, port programs) to exit, killing them if it has not exited after 15 seconds.
// The spool is kept. Stop on a stopped server returns nil. It returns an
// error if the node had to be killed or had already died with a failure.
func (s *Server) Stop() error {
	return s.proc.Stop()
}

// reap waits for the VM's helper processes (erl_child_setup, port
// programs), which exit once they see the VM gone, and kills any still
// there after a second.
func reap(helpers []procID) {
	deadline := time.Now().Add(time.Second)
	for _, h := range helpers {
		for h.alive() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		h.kill()
	}
}

// Restart stops the node and starts it again with the same configuration,
// ports, node name and data. Connected clients and components are
// disconnected; it is meant for testing reconnection. If stopping fails (for
// example because the node had crashed), Restart returns that error without
// starting; call Start again instead.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return err
	}
	// The ports were just released by the same program; retry briefly in
	// case the kernel has not let go of them yet.
	return daemon.Retry(ctx, 20, 100*time.Millisecond, func() error { return s.start(ctx) })
}

// Ctl runs an ejabberdctl command (e.g. "registered_users", "example.test")
// against the running node and returns its output. It does what Debian's
// ejabberdctl does, as the current user and with this instance's cookie and
// distribution port: a hidden Erlang node that calls ejabberd_ctl and exits.
// A non-zero exit status is an error that includes the output.
func (s *Server) Ctl(ctx context.Context, args ...string) (string, error) {
	a := []string{"-s", "ejabberd_ctl", "-extra", s.node}
	out, err := s.runHidden(ctx, append(a, args...))
	if err != nil {
		return out, fmt.Errorf("ejabberd: ejabberdctl %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// runHidden runs a short-lived hidden Erlang node connected to this
// instance's node with the given trailing arguments, and returns its output.
func (s *Server) runHidden(ctx context.Context, args []string) (string, error) {
	if s.PID() == 0 {
		return "", errors.New("the node is not running")
	}
	suffix, err := randomHex(6)
	if err != nil {
		return "", err
	}
	a := []string{"-name", "ctl-" + suffix + "@127.0.0.1"}
	a = append(a, s.distArgs()...)
	a = append(a, "-dist_listen", "false", "-hidden", "-noinput")
	cmd := exec.CommandContext(ctx, s.opts.Erl, append(a, args...)...)
	cmd.Dir = s.opts.Dir
	cmd.Env = s.env()
	out, err := cmd.CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil {
		return text, fmt.Errorf("%w: %s", err, text)
	}
	return text, nil
}

// Register creates the account user@Domain with the given password, or
// replaces the password if the account exists. The node must be running.
func (s *Server) Register(ctx context.Context, user, password string) error {
	return s.RegisterMany(ctx, map[string]string{user: password})
}

// registerEval registers the accounts given as plain arguments (node, host,
// then user and password pairs) through ejabberd_auth, the module behind
// ejabberdctl's register command, replacing the password of an existing
// account; it halts with status 1 and prints the failures if any. Plain
// arguments need no quoting, whatever the passwords hold.
const registerEval = `[N, H | A] = init:get_plain_arguments(),
Node = list_to_atom(N),
Host = unicode:characters_to_binary(H),
Pairs = [{unicode:characters_to_binary(lists:nth(I, A)), unicode:characters_to_binary(lists:nth(I + 1, A))}
         || I <- lists:seq(1, length(A), 2)],
Reg = fun(U, P) ->
    case rpc:call(Node, ejabberd_auth, try_register, [U, Host, P]) of
        {error, exists} -> rpc:call(Node, ejabberd_auth, set_password, [U, Host, P]);
        R -> R
    end
end,
case [{U, E} || {U, P} <- Pairs, E <- [Reg(U, P)], E =/= ok] of
    [] -> halt(0);
    Bad -> io:format("~p~n", [Bad]), halt(1)
end.`

// RegisterMany creates or replaces many accounts on Domain at once, mapping
// localpart to password, in one call to the node: much faster than calling
// Register in a loop (each call starts an Erlang VM, a fraction of a second).
// The node must be running.
func (s *Server) RegisterMany(ctx context.Context, users map[string]string) error {
	if len(users) == 0 {
		return nil
	}
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	args := []string{"-eval", registerEval, "-extra", s.node, s.opts.Domain}
	for _, u := range names {
		args = append(args, u, users[u])
	}
	if _, err := s.runHidden(ctx, args); err != nil {
		return fmt.Errorf("ejabberd: registering %s on %s: %w", strings.Join(names, ", "), s.opts.Domain, err)
	}
	return nil
}

// Config renders the ejabberd configuration that Start writes for o. o.Dir
// should be absolute and the ports non-zero; Start takes care of both.
func Config(o Options) string {
	level, _ := erlLevel(o.LogLevel)
	if o.MaxStanzaSize <= 0 {
		o.MaxStanzaSize = DefaultMaxStanzaSize
	}
	if o.ComponentMaxStanzaSize <= 0 {
		o.ComponentMaxStanzaSize = DefaultComponentMaxStanzaSize
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	w("# Generated by package ejabberd; rewritten on every start.")
	w("hosts:")
	w("  - %s", yq(o.Domain))
	w("loglevel: %s", level)
	w("log_rotate_count: 0")
	w("hide_sensitive_log_data: true")
	w("# Loopback only: no certificates, no TLS, PLAIN allowed on the plain stream.")
	w("certfiles: []")
	w("auth_method: internal")
	w("auth_password_format: plain")
	w("# No server-to-server traffic: only loopback clients and components.")
	w("s2s_access: none")
	w("acl:")
	w("  local:")
	w("    user_regexp: \"\"")
	if o.PubSub != "" && len(o.PubSubAdmins) > 0 {
		w("  pubsub_admins:")
		w("    user:")
		for _, a := range o.PubSubAdmins {
			w("      - %s", yq(a))
		}
	}
	w("access_rules:")
	w("  local:")
	w("    allow: local")
	if o.PubSub != "" {
		w("  pubsub_createnode:")
		if len(o.PubSubAdmins) > 0 {
			w("    allow: pubsub_admins")
		} else {
			w("    deny: all")
		}
	}
	w("  c2s:")
	w("    allow: all")
	w("# No traffic shaping: tests and local runs post far beyond a person's pace.")
	w("shaper: {}")
	w("shaper_rules: {}")
	w("")
	w("listen:")
	w("  -")
	w("    port: %d", o.C2SPort)
	w("    ip: \"127.0.0.1\"")
	w("    module: ejabberd_c2s")
	w("    backlog: %d", listenBacklog)
	w("    access: c2s")
	w("    shaper: none")
	w("    starttls: false")
	w("    starttls_required: false")
	w("    max_stanza_size: %d", o.MaxStanzaSize)

	var comps []string
	for d := range o.Components {
		comps = append(comps, d)
	}
	sort.Strings(comps)
	if len(comps) > 0 {
		w("  -")
		w("    port: %d", o.ComponentPort)
		w("    ip: \"127.0.0.1\"")
		w("    module: ejabberd_service")
		w("    shaper: none")
		w("    max_stanza_size: %d", o.ComponentMaxStanzaSize)
		w("    hosts:")
		for _, d := range comps {
			w("      %s:", yq(d))
			w("        password: %s", yq(o.Components[d]))
		}
	}

	// mod_disco lists the routes that are subdomains of the host by itself;
	// anything else needs extra_domains.
	var extra []string
	for _, d := range comps {
		if !strings.HasSuffix(d, "."+o.Domain) {
			extra = append(extra, d)
		}
	}
	for _, d := range []string{o.PubSub, o.MUC} {
		if d != "" && !strings.HasSuffix(d, "."+o.Domain) {
			extra = append(extra, d)
		}
	}
	w("")
	w("modules:")
	w("  mod_disco:")
	if len(extra) > 0 {
		w("    extra_domains:")
		for _, d := range extra {
			w("      - %s", yq(d))
		}
	} else {
		w("    extra_domains: []")
	}
	for _, m := range []string{
		"mod_admin_extra", "mod_roster", "mod_ping", "mod_carboncopy", "mod_blocking",
		"mod_privacy", "mod_private", "mod_vcard", "mod_time", "mod_offline",
	} {
		w("  %s: {}", m)
	}
	w("  mod_version:")
	w("    show_os: false")
	// XEP-0033: a component in a subdomain of the host passes the
	// service's relay check; the "remote" limits are a component's.
	limit := o.MulticastLimit
	if limit <= 0 {
		limit = DefaultMulticastLimit
	}
	if !o.NoMulticast {
		access := "all"
		if o.MulticastDenied {
			access = "none"
		}
		w("  mod_multicast:")
		w("    access: %s", access)
		w("    limits:")
		w("      remote:")
		w("        message: %d", limit)
		w("        presence: %d", limit)
	}
	if o.MUC != "" {
		writeMUC(w, o)
	}
	if o.PubSub != "" {
		// The pep plugin needs mod_caps. A publish to a missing node
		// would create it (the flat plugin's auto-create feature) if the
		// publisher passed access_createnode; only the admins do.
		w("  mod_caps: {}")
		w("  mod_pubsub:")
		w("    hosts:")
		w("      - %s", yq(o.PubSub))
		w("    access_createnode: pubsub_createnode")
		w("    plugins:")
		w("      - flat")
		w("      - pep")
		w("    default_node_config:")
		w("      send_last_published_item: never")
	}
	return b.String()
}

// writeMUC adds the MUC service of o, and its archive if o.MUCMAM.
func writeMUC(w func(string, ...any), o Options) {
	w("  mod_muc:")
	w("    hosts:")
	w("      - %s", yq(o.MUC))
	w("    access: all")
	w("    access_create: all")
	w("    access_persistent: all")
	w("    access_mam: all")
	// ejabberd's default of 200 occupants is a load test's usual room.
	w("    max_users: %d", mucMaxUsers)
	w("    default_room_options:")
	w("      public: true")
	w("      persistent: true")
	w("      max_users: %d", mucMaxUsers)
	if !o.MUCMAM {
		return
	}
	w("      mam: true")
	// "always" archives without a client having to ask (XEP-0441
	// preferences); a room's archive follows its mam option.
	w("  mod_mam:")
	w("    default: always")
}

// mucMaxUsers is the most occupants a room of Options.MUC takes.
const mucMaxUsers = 10000

// isBareJID reports whether s looks like user@domain: a localpart, a
// domain and no resource.
func isBareJID(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, "/ \"") && !strings.Contains(domain, "@")
}

// erlLevel maps a LogLevel to ejabberd's loglevel.
func erlLevel(l string) (string, error) {
	switch l {
	case "", "info":
		return "info", nil
	case "debug", "error":
		return l, nil
	case "warn":
		return "warning", nil
	}
	return "", fmt.Errorf("ejabberd: unknown log level %q", l)
}

// yq renders s as a YAML double-quoted scalar (JSON strings are valid YAML).
func yq(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// erlString renders s as an Erlang string literal for a command-line
// application parameter.
func erlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Version returns the installed ejabberd's version, e.g. "23.01", read from
// the name of its Erlang application directory, or "" if it is not
// installed.
func Version() string {
	dir, err := findLibDir()
	if err != nil {
		return ""
	}
	m, _ := filepath.Glob(filepath.Join(dir, "ejabberd-*", "ebin", "ejabberd.app"))
	if len(m) == 0 {
		return ""
	}
	sort.Strings(m)
	return strings.TrimPrefix(filepath.Base(filepath.Dir(filepath.Dir(m[len(m)-1]))), "ejabberd-")
}

func findLibDir() (string, error) {
	for _, g := range libGlobs {
		m, _ := filepath.Glob(g)
		if len(m) > 0 {
			sort.Strings(m)
			// .../ejabberd-VERSION/ebin/ejabberd.app -> ...
			return filepath.Dir(filepath.Dir(filepath.Dir(m[len(m)-1]))), nil
		}
	}
	return "", errors.New("ejabberd: its Erlang application (ejabberd-VERSION/ebin) is not installed (apt-get install ejabberd)")
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("ejabberd: %w", err)
	}
	return hex.EncodeToString(b), nil
}
