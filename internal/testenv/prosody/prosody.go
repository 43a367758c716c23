package prosody

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	prosodymodules "github.com/uuchat/groupchat/contrib/prosody"
	"github.com/uuchat/groupchat/internal/testenv/daemon"
)

// Default names of the Prosody executables, looked up in PATH when
// Options.Binary or Options.CtlBinary is empty.
const (
	DefaultBinary    = "prosody"    // the server
	DefaultCtlBinary = "prosodyctl" // its control tool, used by Register
)

// File names inside Options.Dir.
const (
	ConfigFile  = "prosody.cfg.lua"     // generated configuration
	LogFile     = "prosody.log"         // Prosody's own log
	ConsoleFile = "prosody.console.log" // the child's stdout and stderr
	PIDFile     = "prosody.pid"         // written by Prosody (mod_posix)
	DataDir     = "data"                // Prosody's data_path (accounts, rosters, archives)
	CertsDir    = "certs"               // empty; keeps Prosody's certificate indexer quiet
	PluginsDir  = "plugins"             // the project's Prosody modules (plugin_paths)
)

// WebSocketPath is where mod_websocket listens on the HTTP port.
const WebSocketPath = "/xmpp-websocket"

// How long Stop waits for Prosody to exit after SIGTERM before killing it.
const stopTimeout = 10 * time.Second

// Options configures the Prosody instance started by Start.
type Options struct {
	// Dir receives the configuration, the data directory, the pidfile and the
	// logs. It is created if needed. Required. Data in it survives Stop and
	// Restart, so a later Start on the same Dir sees the same accounts.
	Dir string

	// Domain is the VirtualHost that clients log in to, e.g. "example.test".
	// Required.
	Domain string

	// Components maps XEP-0114 external component domains to their secrets,
	// e.g. {"groupchat.example.test": "s3cret"}. Each component is listed in
	// disco#items of Domain.
	Components map[string]string

	// ComponentNames optionally gives the name shown for a component in
	// disco#items of Domain, keyed by component domain.
	ComponentNames map[string]string

	// MUC optionally adds a XEP-0045 service (mod_muc) on this domain, e.g.
	// "conference.example.test". Anyone may create rooms; new rooms are
	// unlocked, public and persistent, so clients can join by sending
	// presence without configuring the room first.
	MUC string

	// MUCMAM enables mod_muc_mam (XEP-0313 archives for rooms) on MUC.
	MUCMAM bool

	// Multicast adds the project's XEP-0033 multicast service
	// (contrib/prosody's mod_groupchat_multicast) at MulticastDomain,
	// which the components in MulticastSenders may use and nobody else;
	// an empty MulticastSenders means every domain in Components.
	// MulticastLimit is the most addresses it takes in one stanza, stated
	// in its disco#info; zero means the module's default (100).
	Multicast        bool
	MulticastSenders []string
	MulticastLimit   int

	// PubSub optionally adds a XEP-0060 service (Prosody's mod_pubsub) on
	// this component domain, e.g. "push.example.test", standing in for an
	// XEP-0357 app server. Nodes are not created on publish: PubSubAdmins
	// (bare JIDs) may create and configure them.
	PubSub       string
	PubSubAdmins []string

	// C2SPort and ComponentPort are the TCP ports on 127.0.0.1 for clients
	// and external components. Zero picks a free port at start. Prosody
	// opens the component port only if Components is not empty.
	C2SPort, ComponentPort int

	// WebSocket opens Prosody's HTTP server (mod_http) on 127.0.0.1 at
	// HTTPPort, zero picking a free port, with RFC 7395 XMPP over WebSocket
	// (mod_websocket) at WebSocketPath, so that a browser client can log in.
	// The connection is plain ws://: loopback needs no TLS. Prosody 0.12
	// does not check a WebSocket's Origin, so a page served from another
	// port may connect; only the loopback address keeps others out.
	WebSocket bool
	HTTPPort  int

	// LogLevel is the minimum level written to the log file: "debug",
	// "info" (default), "warn" or "error".
	LogLevel string

	// ExtraConfig is Lua appended to the global section of the generated
	// configuration, before any VirtualHost or Component section.
	ExtraConfig string

	// Binary and CtlBinary are the prosody and prosodyctl executables.
	// Empty means DefaultBinary and DefaultCtlBinary looked up in PATH.
	Binary, CtlBinary string
}

// Server is a running (or stopped) Prosody child process. Its methods are safe
// for concurrent use.
type Server struct {
	opts       Options // normalized: absolute Dir, ports filled in, binaries resolved
	configPath string
	logPath    string
	consolePth string

	proc daemon.Current
}

// Installed reports whether the prosody executable can be found in PATH.
func Installed() bool {
	_, err := exec.LookPath(DefaultBinary)
	return err == nil
}

// Start writes the configuration into o.Dir, starts Prosody in the foreground
// and waits until it accepts TCP connections on the c2s port and, if
// o.Components is not empty, on the component port. ctx bounds only this
// startup wait, not the life of the process: the process runs until Stop. On
// failure the error includes the tail of Prosody's log and the process is
// stopped.
//
// When a port is zero, a free port is picked; if Prosody then fails to bind
// it (another process took it in the meantime), Start retries with new ports.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Dir == "" {
		return nil, errors.New("prosody: Options.Dir is required")
	}
	if o.Domain == "" {
		return nil, errors.New("prosody: Options.Domain is required")
	}
	switch o.LogLevel {
	case "":
		o.LogLevel = "info"
	case "debug", "info", "warn", "error":
	default:
		return nil, fmt.Errorf("prosody: unknown log level %q", o.LogLevel)
	}
	for d := range o.Components {
		if d == "" || d == o.Domain || d == o.MUC {
			return nil, fmt.Errorf("prosody: invalid component domain %q", d)
		}
	}
	if o.MUC == o.Domain && o.MUC != "" {
		return nil, fmt.Errorf("prosody: MUC domain %q equals Domain", o.MUC)
	}
	var err error
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return nil, fmt.Errorf("prosody: %w", err)
	}
	if o.Binary, err = lookPath(o.Binary, DefaultBinary); err != nil {
		return nil, err
	}
	if o.CtlBinary, err = lookPath(o.CtlBinary, DefaultCtlBinary); err != nil {
		// prosodyctl is needed only by Register.
		o.CtlBinary = ""
	}
	for _, d := range []string{o.Dir, filepath.Join(o.Dir, DataDir), filepath.Join(o.Dir, CertsDir)} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("prosody: %w", err)
		}
	}
	if o.Multicast {
		if d := MulticastDomain(o.Domain); d == o.MUC || d == o.PubSub || o.Components[d] != "" {
			return nil, fmt.Errorf("prosody: %s is taken; the multicast service needs it", d)
		}
		if err := prosodymodules.Install(filepath.Join(o.Dir, PluginsDir)); err != nil {
			return nil, err
		}
	}

	var s *Server
	ports := []*int{&o.C2SPort, &o.ComponentPort}
	if o.WebSocket {
		ports = append(ports, &o.HTTPPort)
	} else {
		o.HTTPPort = 0
	}
	err = daemon.StartOnFreePorts(ctx, "prosody", ports, func() error {
		s = &Server{
			opts:       o,
			configPath: filepath.Join(o.Dir, ConfigFile),
			logPath:    filepath.Join(o.Dir, LogFile),
			consolePth: filepath.Join(o.Dir, ConsoleFile),
		}
		if err := os.WriteFile(s.configPath, []byte(Config(o)), 0o640); err != nil {
			return fmt.Errorf("prosody: %w", err)
		}
		return s.start(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// start launches the process and waits for readiness. Not safe for concurrent
// use: callers serialize.
func (s *Server) start(ctx context.Context) error {
	addrs := []string{s.C2SAddr()}
	// Prosody logs each service it activates with the ports it bound. At
	// levels that show these lines, wait for them too.
	want := []string{fmt.Sprintf("Activated service 'c2s' on [127.0.0.1]:%d", s.opts.C2SPort)}
	if len(s.opts.Components) > 0 {
		// Prosody opens the component port only when an external component
		// is configured.
		addrs = append(addrs, s.ComponentAddr())
		want = append(want, fmt.Sprintf("Activated service 'component' on [127.0.0.1]:%d", s.opts.ComponentPort))
	}
	ports := fmt.Sprintf("ports %d, %d", s.opts.C2SPort, s.opts.ComponentPort)
	if s.opts.WebSocket {
		addrs = append(addrs, daemon.Loopback(s.opts.HTTPPort))
		want = append(want, fmt.Sprintf("Activated service 'http' on [127.0.0.1]:%d", s.opts.HTTPPort))
		ports += fmt.Sprintf(", %d", s.opts.HTTPPort)
	}
	if s.opts.LogLevel != "info" && s.opts.LogLevel != "debug" {
		want = nil
	}
	cmd := exec.Command(s.opts.Binary, "-F", "--config", s.configPath)
	cmd.Dir = s.opts.Dir
	p, err := daemon.Start(ctx, daemon.Spec{
		Name:        "prosody",
		Cmd:         cmd,
		LogPath:     s.logPath,
		ConsolePath: s.consolePth,
		Addrs:       addrs,
		Markers:     want,
		BindFailed: func(log, _ []byte) bool {
			return bytes.Contains(log, []byte("Failed to open server port")) || bytes.Contains(log, []byte("Failed to activate service"))
		},
		Ports:       ports,
		StopTimeout: stopTimeout,
		// Prosody removes its pidfile on "server-stopped", after every
		// module has cleaned up and just before it stops its event loop.
		PIDFile: filepath.Join(s.opts.Dir, PIDFile),
	})
	if err != nil {
		return err
	}
	s.proc.Set(p)
	return nil
}

// LogTail returns the last n lines of Prosody's log file.
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

// WebSocketURL returns the ws:// URL of XMPP over WebSocket, or "" without
// Options.WebSocket.
func (s *Server) WebSocketURL() string {
	if !s.opts.WebSocket {
		return ""
	}
	return "ws://" + daemon.Loopback(s.opts.HTTPPort) + WebSocketPath
}

// MulticastDomain is where Options.Multicast puts the multicast service for
// the VirtualHost domain: "multicast." and the domain, as ejabberd's
// mod_multicast does.
func MulticastDomain(domain string) string { return "multicast." + domain }

// Domain returns the VirtualHost domain clients log in to.
func (s *Server) Domain() string { return s.opts.Domain }

// Dir returns the absolute directory holding configuration, data and logs.
func (s *Server) Dir() string { return s.opts.Dir }

// LogPath returns the path of Prosody's log file.
func (s *Server) LogPath() string { return s.logPath }

// ConfigPath returns the path of the generated configuration file.
func (s *Server) ConfigPath() string { return s.configPath }

// PID returns the process id of the running Prosody, or 0 if it is not
// running.
func (s *Server) PID() int {
	return s.proc.PID()
}

// Done returns a channel that is closed when the current Prosody process
// exits, for whatever reason. After Restart, call Done again for the new
// process. If no process was ever started the channel is already closed.
func (s *Server) Done() <-chan struct{} {
	return s.proc.Done()
}

// Stop terminates Prosody with SIGTERM and waits for it to exit, killing it
// if it has not exited after 10 seconds. The data directory is kept. Stop on
// a stopped server returns nil. It returns an error if Prosody had to be
// killed or had already died with a failure.
func (s *Server) Stop() error {
	return s.proc.Stop()
}

// Restart stops Prosody and starts it again with the same configuration,
// ports and data. Connected clients and components are disconnected; it is
// meant for testing reconnection. If stopping fails (for example because
// Prosody had crashed), Restart returns that error without starting; call
// Start again instead.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return err
	}
	// The ports were just released by the same program; retry briefly in
	// case the kernel has not let go of them yet.
	return daemon.Retry(ctx, 20, 100*time.Millisecond, func() error { return s.start(ctx) })
}

// Register creates the account user@Domain with the given password using
// "prosodyctl --config FILE register". It works whether or not Prosody is
// running. If the account exists its password is replaced.
func (s *Server) Register(ctx context.Context, user, password string) error {
	if s.opts.CtlBinary == "" {
		return fmt.Errorf("prosody: %s not found in PATH", DefaultCtlBinary)
	}
	cmd := exec.CommandContext(ctx, s.opts.CtlBinary, "--config", s.configPath, "register", user, s.opts.Domain, password)
	cmd.Dir = s.opts.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("prosody: prosodyctl register %s %s: %w: %s", user, s.opts.Domain, err, bytes.TrimSpace(out))
	}
	return nil
}

// RegisterMany creates or replaces many accounts on Domain at once, mapping
// localpart to password, by writing Prosody's internal account storage
// directly. It is much faster than calling Register in a loop (prosodyctl
// costs a fraction of a second per call) and is meant for load tests.
// Localparts must already be in canonical form (lower case, no characters
// that need escaping in a JID). It works whether or not Prosody is running,
// since Prosody reads account files on every login.
func (s *Server) RegisterMany(users map[string]string) error {
	dir := filepath.Join(s.opts.Dir, DataDir, storeEncode(s.opts.Domain), "accounts")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("prosody: %w", err)
	}
	for user, password := range users {
		if user == "" || strings.ContainsAny(user, "@/\"&'<>: ") || strings.ToLower(user) != user {
			return fmt.Errorf("prosody: localpart %q is not in canonical form", user)
		}
		data := "return {\n\t[\"password\"] = " + luaQuote(password) + ";\n};\n"
		name := filepath.Join(dir, storeEncode(user)+".dat")
		tmp := name + ".tmp"
		if err := os.WriteFile(tmp, []byte(data), 0o640); err != nil {
			return fmt.Errorf("prosody: %w", err)
		}
		if err := os.Rename(tmp, name); err != nil {
			return fmt.Errorf("prosody: %w", err)
		}
	}
	return nil
}

// storeEncode mirrors Prosody's util.datamanager encode: every byte that is
// not an ASCII letter or digit becomes %xx.
func storeEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}

// Config renders the Prosody configuration that Start writes for o. o.Dir
// should be absolute and the ports non-zero; Start takes care of both.
func Config(o Options) string {
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	q := luaQuote
	path := func(elem ...string) string { return q(filepath.Join(append([]string{o.Dir}, elem...)...)) }
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	w("-- Generated by package prosody; rewritten on every start.")
	if os.Geteuid() == 0 {
		w("run_as_root = true")
	}
	w("pidfile = %s", path(PIDFile))
	w("data_path = %s", path(DataDir))
	w("certificates = %s", path(CertsDir))
	w("log = { { levels = { min = %s }, to = \"file\", filename = %s } }", q(o.LogLevel), path(LogFile))
	w("")
	w("interfaces = { \"127.0.0.1\" }")
	w("c2s_ports = { %d }", o.C2SPort)
	w("c2s_interfaces = { \"127.0.0.1\" }")
	w("component_ports = { %d }", o.ComponentPort)
	w("component_interfaces = { \"127.0.0.1\" }")
	w("c2s_direct_tls_ports = { }")
	w("legacy_ssl_ports = { }")
	if o.WebSocket {
		w("http_ports = { %d }", o.HTTPPort)
		w("http_interfaces = { \"127.0.0.1\" }")
		w("https_ports = { }")
		// A browser names the host it connected to, 127.0.0.1: serve it as
		// the VirtualHost.
		w("http_default_host = %s", q(o.Domain))
	}
	w("")
	w("authentication = \"internal_plain\"")
	w("storage = \"internal\"")
	w("c2s_require_encryption = false")
	w("allow_unencrypted_plain_auth = true")
	w("allow_registration = false")
	w("")
	w("modules_enabled = {")
	for _, m := range []string{
		"roster", "saslauth", "disco", "ping", "carbons", "blocklist",
		"private", "pep", "vcard_legacy", "time", "version", "uptime",
	} {
		w("\t%s;", q(m))
	}
	if o.WebSocket {
		// mod_websocket loads mod_http itself.
		w("\t%s;", q("websocket"))
	}
	w("}")
	w("-- presence, message, iq, offline and c2s are always loaded (as is posix).")
	w("-- No server-to-server traffic: only loopback clients and components.")
	w("modules_disabled = { \"s2s\", \"s2s_auth_certs\" }")
	if o.Multicast {
		w("plugin_paths = { %s }", path(PluginsDir))
	}
	if o.ExtraConfig != "" {
		w("")
		w("%s", o.ExtraConfig)
	}

	var comps []string
	for d := range o.Components {
		comps = append(comps, d)
	}
	sort.Strings(comps)

	// Prosody lists hosts that are direct subdomains of the VirtualHost in its
	// disco#items by itself (named by the host's "name" option); anything
	// else needs an explicit disco_items entry.
	var extraItems []string
	for _, d := range comps {
		if !isDirectSubdomain(d, o.Domain) {
			item := "{ " + q(d)
			if n := o.ComponentNames[d]; n != "" {
				item += ", " + q(n)
			}
			extraItems = append(extraItems, item+" }")
		}
	}
	if o.MUC != "" && !isDirectSubdomain(o.MUC, o.Domain) {
		extraItems = append(extraItems, "{ "+q(o.MUC)+" }")
	}
	if o.PubSub != "" && !isDirectSubdomain(o.PubSub, o.Domain) {
		extraItems = append(extraItems, "{ "+q(o.PubSub)+" }")
	}
	w("")
	w("VirtualHost %s", q(o.Domain))
	if len(extraItems) > 0 {
		w("\tdisco_items = { %s }", strings.Join(extraItems, ", "))
	}

	for _, d := range comps {
		w("")
		w("Component %s", q(d))
		w("\tcomponent_secret = %s", q(o.Components[d]))
		if n := o.ComponentNames[d]; n != "" {
			w("\tname = %s", q(n))
		}
	}

	if o.MUC != "" {
		w("")
		w("Component %s \"muc\"", q(o.MUC))
		if o.MUCMAM {
			w("\tmodules_enabled = { \"muc_mam\" }")
			w("\tmuc_log_by_default = true")
			w("\tmuc_log_all_rooms = true")
			w("\tmax_archive_query_results = 100")
		}
		w("\trestrict_room_creation = false")
		w("\tmuc_room_locking = false")
		w("\tmuc_room_default_public = true")
		w("\tmuc_room_default_persistent = true")
		w("\tmuc_room_default_members_only = false")
		w("\tmuc_room_default_moderated = false")
		w("\tmuc_room_default_history_length = 20")
		w("\tmuc_tombstones = false")
		w("\t-- Keep many rooms live instead of swapping them to disk (default 100).")
		w("\tmuc_room_cache_size = 10000")
	}

	if o.PubSub != "" {
		var admins []string
		for _, a := range o.PubSubAdmins {
			admins = append(admins, q(a))
		}
		w("")
		w("Component %s \"pubsub\"", q(o.PubSub))
		w("\tadmins = { %s }", strings.Join(admins, ", "))
		w("\tautocreate_on_publish = false")
	}

	if o.Multicast {
		// A direct subdomain of the VirtualHost: Prosody lists it in the
		// host's disco#items, where XEP-0033 §2 discovery looks.
		allowed := o.MulticastSenders
		if len(allowed) == 0 {
			allowed = comps
		}
		var senders []string
		for _, d := range allowed {
			senders = append(senders, q(d))
		}
		w("")
		w("Component %s %s", q(MulticastDomain(o.Domain)), q(prosodymodules.Multicast))
		w("\tname = \"Multicast\"")
		w("\t%s = { %s }", prosodymodules.SendersOption, strings.Join(senders, ", "))
		if o.MulticastLimit > 0 {
			w("\t%s = %d", prosodymodules.MaxAddressesOption, o.MulticastLimit)
		}
	}
	return b.String()
}

func isDirectSubdomain(sub, parent string) bool {
	i := strings.IndexByte(sub, '.')
	return i > 0 && sub[i+1:] == parent
}

// luaQuote renders s as a Lua string literal.
func luaQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func lookPath(given, def string) (string, error) {
	if given == "" {
		given = def
	}
	p, err := exec.LookPath(given)
	if err != nil {
		return "", fmt.Errorf("prosody: %w", err)
	}
	return p, nil
}
