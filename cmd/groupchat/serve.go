package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/internal/audit"
	"github.com/uuchat/groupchat/internal/console"
	"github.com/uuchat/groupchat/internal/metrics"
	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/replay"
	"github.com/uuchat/groupchat/snapshot"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/link"
	"github.com/uuchat/groupchat/xmpp/multicast"
	"github.com/uuchat/groupchat/xmpp/presence"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/push"
	"github.com/uuchat/groupchat/xmpp/readmodel"
	"github.com/uuchat/groupchat/xmpp/service"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// DefaultMaxOutbound is the default largest stanza the service writes: well
// under the 512 KiB Prosody accepts from a component by default.
const DefaultMaxOutbound = 448 << 10

// DefaultGroupCacheBytes is the default --group-cache-bytes: 64 MiB.
const DefaultGroupCacheBytes = 64 << 20

// MinMaxOutbound is the least --max-outbound-stanza-bytes may be.
const MinMaxOutbound = 16 << 10

// serveConfig is everything `serve` can be told, from flags or GROUPCHAT_*
// environment variables.
type serveConfig struct {
	Server     string
	Domain     string
	Secret     string
	SecretFile string
	Data       string
	Store      string
	Name       string
	Sync       string
	LogLevel   string
	LogFormat  string
	Admins     string

	Limits       domain.Limits
	Stanza       xmlnode.Limits
	MessageRate  float64
	MessageBurst int
	QueueSize    int
	// MaxOutbound is the largest stanza the component writes.
	MaxOutbound int
	// MaxResourcesPerUser and MaxOnlineResources bound the resources the
	// service tracks as online.
	MaxResourcesPerUser int
	MaxOnlineResources  int
	// GroupCacheBytes bounds the memory of the group states kept between
	// requests.
	GroupCacheBytes int

	Push       push.Config
	PushLimits domain.PushLimits
	// HTTP is the local listener of /metrics, /healthz and the web view
	// ("" for none); Pprof adds /debug/pprof/ to it.
	HTTP  string
	Pprof bool
	// Multicast turns on sending broadcasts through the XMPP server's
	// multicast service (XEP-0033) when it offers one, with at most
	// MulticastMaxAddresses recipients per stanza unless the service
	// states its own limit.
	Multicast             bool
	MulticastMaxAddresses int
}

func (c *serveConfig) register(fs *flag.FlagSet) {
	c.Limits, c.Stanza = domain.DefaultLimits(), xmlnode.DefaultLimits()
	lim, st := &c.Limits, &c.Stanza
	fs.StringVar(&c.Server, "server", "127.0.0.1:5347", "the XMPP server's component listener, HOST:PORT")
	fs.StringVar(&c.Domain, "domain", "", "the component's domain, e.g. groupchat.example.org (required)")
	fs.StringVar(&c.Secret, "secret", "", "the component's shared secret (or use --secret-file)")
	fs.StringVar(&c.SecretFile, "secret-file", "", "a file holding the shared secret")
	fs.StringVar(&c.Data, "data", "./data", "directory for the event log and projections (SQLite files)")
	fs.StringVar(&c.Store, "store", "", storeUsage)
	fs.StringVar(&c.Name, "name", "Group Chat Service", "the service's name in service discovery")
	fs.StringVar(&c.Sync, "sync", "full", "durability of the event log: full (survives power loss) or normal (survives a process crash)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	fs.StringVar(&c.Admins, "system-admins", "", "comma-separated bare JIDs allowed to create system groups")
	fs.IntVar(&lim.MaxBodyBytes, "max-body-bytes", lim.MaxBodyBytes, "largest message body, in bytes")
	fs.IntVar(&lim.MaxPayloadBytes, "max-payload-bytes", lim.MaxPayloadBytes, "largest total of a message's extension elements, in bytes")
	fs.IntVar(&lim.MaxNameChars, "max-name-chars", lim.MaxNameChars, "longest group name, in characters")
	fs.IntVar(&lim.MaxMembers, "max-members", lim.MaxMembers, "most members per group")
	fs.IntVar(&lim.MaxNickChars, "max-nick-chars", lim.MaxNickChars, "longest nick, in characters")
	fs.IntVar(&lim.MaxMIDChars, "max-mid-chars", lim.MaxMIDChars, "longest member id, in characters")
	fs.IntVar(&lim.DedupWindow, "dedup-window", lim.DedupWindow, "recent messages per group kept in memory to recognise a resend at once (older ones are found in the projections' message index)")
	fs.IntVar(&st.MaxBytes, "max-stanza-bytes", st.MaxBytes, "largest incoming stanza (text and attributes), in bytes")
	fs.IntVar(&st.MaxDepth, "max-stanza-depth", st.MaxDepth, "deepest element nesting in an incoming stanza")
	fs.IntVar(&st.MaxChildren, "max-stanza-elements", st.MaxChildren, "most elements in an incoming stanza")
	fs.IntVar(&c.MaxOutbound, "max-outbound-stanza-bytes", DefaultMaxOutbound, "largest stanza the service writes to the XMPP server, in bytes; keep it under the server's limit for components (Prosody: component_stanza_size_limit, 524288 by default)")
	fs.Float64Var(&c.MessageRate, "message-rate", 20, "messages per second one sender may post, sustained (0: no limit)")
	fs.IntVar(&c.MessageBurst, "message-burst", 100, "messages one sender may post in a burst")
	fs.IntVar(&c.QueueSize, "queue-size", 65536, "outgoing stanzas buffered while the server link is slow or down")
	online := presence.DefaultLimits()
	fs.IntVar(&c.MaxResourcesPerUser, "max-resources-per-user", online.PerUser, "online resources tracked per user; beyond it the least recently seen is forgotten")
	fs.IntVar(&c.MaxOnlineResources, "max-online-resources", online.Total, "online resources of members tracked (and a tenth as many of users in no group); beyond it the least recently seen is forgotten")
	fs.IntVar(&c.GroupCacheBytes, "group-cache-bytes", DefaultGroupCacheBytes, "memory for the states of the groups used lately, in bytes (estimated: about 250 bytes per member and 200 per message remembered for resends); a group not in it is read from its stream when next needed")
	c.Push, c.PushLimits = push.DefaultConfig(), domain.DefaultPushLimits()
	fs.DurationVar(&c.Push.Interval, "push-interval", c.Push.Interval, "least time between two push notifications to one member; a burst within it is one notification")
	fs.IntVar(&c.Push.MaxFailures, "push-max-failures", c.Push.MaxFailures, "failed publishes in a row after which a push registration is disabled")
	fs.DurationVar(&c.Push.ReplyTimeout, "push-reply-timeout", c.Push.ReplyTimeout, "how long an app server has to answer a publish before it counts as failed")
	fs.IntVar(&c.Push.QueueSize, "push-queue-size", c.Push.QueueSize, "messages waiting for the push notifier; beyond it they are dropped, never waited for")
	fs.IntVar(&c.PushLimits.MaxRegistrations, "push-max-registrations", c.PushLimits.MaxRegistrations, "push registrations (devices) per user")
	fs.IntVar(&c.PushLimits.MaxPublishOptionsBytes, "push-max-options-bytes", c.PushLimits.MaxPublishOptionsBytes, "largest publish-options form kept with a push registration, in bytes")
	fs.StringVar(&c.HTTP, "http", "", "HOST:PORT of the HTTP listener for /metrics, /healthz and the web view, e.g. 127.0.0.1:9090 (empty: none)")
	fs.BoolVar(&c.Multicast, "multicast", true, "send a broadcast as one stanza per batch of recipients through the XMPP server's multicast service (XEP-0033: ejabberd's mod_multicast, or for Prosody the module in contrib/prosody) when the server offers one; one stanza per recipient otherwise")
	fs.IntVar(&c.MulticastMaxAddresses, "multicast-max-addresses", 20, "recipients per stanza to the multicast service when it does not state its limit (ejabberd's default for a component is 20; its mod_multicast option limits: remote: message raises it, and is then stated)")
	fs.BoolVar(&c.Pprof, "pprof", false, "serve Go's profiler under /debug/pprof/ on the --http listener")
}

// check refuses values out of range, naming the setting and where its value
// came from (src may be nil).
func (c *serveConfig) check(src sources) error {
	for _, l := range []struct {
		name string
		v    int
	}{
		{"max-body-bytes", c.Limits.MaxBodyBytes}, {"max-payload-bytes", c.Limits.MaxPayloadBytes},
		{"max-name-chars", c.Limits.MaxNameChars}, {"max-members", c.Limits.MaxMembers},
		{"max-nick-chars", c.Limits.MaxNickChars}, {"max-mid-chars", c.Limits.MaxMIDChars},
		{"dedup-window", c.Limits.DedupWindow}, {"max-stanza-bytes", c.Stanza.MaxBytes},
		{"max-stanza-depth", c.Stanza.MaxDepth}, {"max-stanza-elements", c.Stanza.MaxChildren},
		{"queue-size", c.QueueSize}, {"message-burst", c.MessageBurst}, {"max-outbound-stanza-bytes", c.MaxOutbound},
		{"max-resources-per-user", c.MaxResourcesPerUser}, {"max-online-resources", c.MaxOnlineResources},
		{"group-cache-bytes", c.GroupCacheBytes}, {"multicast-max-addresses", c.MulticastMaxAddresses},
		{"push-max-failures", c.Push.MaxFailures}, {"push-queue-size", c.Push.QueueSize},
		{"push-max-registrations", c.PushLimits.MaxRegistrations}, {"push-max-options-bytes", c.PushLimits.MaxPublishOptionsBytes},
	} {
		if l.v <= 0 {
			return fmt.Errorf("%s must be positive, not %d", src.describe(l.name), l.v)
		}
	}
	for _, l := range []struct {
		name string
		d    time.Duration
	}{{"push-interval", c.Push.Interval}, {"push-reply-timeout", c.Push.ReplyTimeout}} {
		if l.d <= 0 {
			return fmt.Errorf("%s must be positive, not %s", src.describe(l.name), l.d)
		}
	}
	if c.Domain != "" {
		// The server compares the domain of every from the component writes
		// with its own prepared form of the component's name.
		if d, err := address.Parse(c.Domain); err != nil || d.String() != c.Domain || d.Localpart() != "" || d.Resourcepart() != "" {
			want := ""
			if err == nil && d.Localpart() == "" && d.Resourcepart() == "" {
				want = " (write it " + d.String() + ")"
			}
			return fmt.Errorf("%s must be a domain in the form the XMPP server uses%s, not %q", src.describe("domain"), want, c.Domain)
		}
	}
	if c.MaxOutbound < MinMaxOutbound {
		return fmt.Errorf("%s must be at least %d bytes (a member list or an archived message must fit), not %d", src.describe("max-outbound-stanza-bytes"), MinMaxOutbound, c.MaxOutbound)
	}
	if need := c.PushLimits.MaxPublishOptionsBytes + 5*protocol.MaxPushBodyBytes + protocol.MessageReserve; need > c.MaxOutbound {
		return fmt.Errorf("%s (%d) leaves no room for a push publish with its options under %s (%d): a publish may need %d bytes",
			src.describe("push-max-options-bytes"), c.PushLimits.MaxPublishOptionsBytes, src.describe("max-outbound-stanza-bytes"), c.MaxOutbound, need)
	}
	if c.MessageRate < 0 || math.IsNaN(c.MessageRate) || math.IsInf(c.MessageRate, 0) {
		return fmt.Errorf("%s must be a number of messages per second, not %g", src.describe("message-rate"), c.MessageRate)
	}
	if c.Sync != "full" && c.Sync != "normal" {
		return fmt.Errorf("%s must be full or normal, not %q", src.describe("sync"), c.Sync)
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("%s must be debug, info, warn or error, not %q", src.describe("log-level"), c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("%s must be text or json, not %q", src.describe("log-format"), c.LogFormat)
	}
	if c.HTTP != "" {
		if _, port, err := net.SplitHostPort(c.HTTP); err != nil || port == "" {
			return fmt.Errorf("%s must be HOST:PORT, e.g. 127.0.0.1:9090, not %q", src.describe("http"), c.HTTP)
		}
	}
	if c.Pprof && c.HTTP == "" {
		return fmt.Errorf("%s needs --http", src.describe("pprof"))
	}
	return nil
}

// validate checks everything serve needs before it starts, and reads the
// secret file.
func (c *serveConfig) validate(src sources) error {
	if c.Domain == "" {
		return errors.New("--domain (GROUPCHAT_DOMAIN, or domain in the configuration file) is required")
	}

	if c.SecretFile != "" {
		b, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return fmt.Errorf("%s: reading the secret file: %w", src.describe("secret-file"), err)
		}
		c.Secret = strings.TrimSpace(string(b))
	}
	if c.Secret == "" {
		return errors.New("--secret or --secret-file (GROUPCHAT_SECRET, GROUPCHAT_SECRET_FILE, or secret-file in the configuration file) is required")
	}
	if c.Server == "" {
		return fmt.Errorf("%s is required", src.describe("server"))
	}
	return c.check(src)
}

type serveCommand struct {
	cfg serveConfig
	out io.Writer
}

func (s *serveCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	s.cfg.register(fs)
	fs.String(configFlag, "", "a TOML configuration file; its keys are these flags' names (flags and environment win over it)")
	printOnly := fs.Bool(printConfigFlag, false, "print the effective configuration as TOML (secret redacted) and exit")
	src, err := parseSettings(fs, args)
	if err != nil {
		return err
	}
	if *printOnly {
		if err := s.cfg.check(src); err != nil {
			return err
		}
		out := s.out
		if out == nil {
			out = os.Stdout
		}
		return printConfig(out, fs, src)
	}
	if err := s.cfg.validate(src); err != nil {
		return err
	}
	log, err := newLogger(s.cfg.LogLevel, s.cfg.LogFormat)
	if err != nil {
		return err
	}
	return serve(ctx, s.cfg, log, nil)
}

func newLogger(level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

// serve runs the component until ctx ends. ready, if set, is called once the
// component is authenticated and serving.
func serve(ctx context.Context, cfg serveConfig, log *slog.Logger, ready func()) error {
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	probe := filepath.Join(cfg.Data, ".write-test")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		return fmt.Errorf("data directory %s is not writable: %w", cfg.Data, err)
	}
	os.Remove(probe)
	release, err := lockData(cfg.Data)
	if err != nil {
		return err
	}
	defer release()

	rawStore, err := openStore(ctx, cfg.Store, cfg.Data, cfg.Sync, false, log)
	if err != nil {
		return err
	}
	defer rawStore.Close()
	m := metrics.New()
	store := m.Store(rawStore)
	projPath := filepath.Join(cfg.Data, "projections.db")
	if err := rebuildIfMissing(ctx, store, projPath, log); err != nil {
		return err
	}
	proj, err := projections.Open(projPath)
	if err != nil {
		return fmt.Errorf("opening the projections: %w", err)
	}
	defer proj.Close()

	// Snapshots of long groups: a cache beside the projections, for any
	// store.
	snaps, err := snapshot.Open(filepath.Join(cfg.Data, "snapshots.db"))
	if err != nil {
		return fmt.Errorf("opening the snapshots: %w", err)
	}
	defer snaps.Close()

	var admins []string
	for _, a := range strings.Split(cfg.Admins, ",") {
		if a = strings.TrimSpace(a); a != "" {
			admins = append(admins, a)
		}
	}
	// Users in no group are tracked only so that one added while online
	// gets the broadcast that adds it: a tenth of the room is plenty.
	online := presence.NewTrackerWithLimits(presence.Limits{
		PerUser: cfg.MaxResourcesPerUser, Total: cfg.MaxOnlineResources, Candidates: max(1, cfg.MaxOnlineResources/10),
	})
	svc := service.New(service.Config{
		Domain: cfg.Domain, Name: cfg.Name, Limits: cfg.Limits, SystemAdmins: admins,
		MessageRate: cfg.MessageRate, MessageBurst: cfg.MessageBurst, MaxOutboundBytes: cfg.MaxOutbound,
		MaxRoomOccupants: cfg.MaxOnlineResources, GroupCacheBytes: cfg.GroupCacheBytes, Snapshots: snaps,
		Multicast: multicastConfig(cfg),
	}, store, readmodel.ReadModel{DB: proj}, online, log)
	pushCfg := cfg.Push
	pushCfg.Domain = cfg.Domain
	notifier := push.NewNotifier(pushCfg, push.NewSettings(store, cfg.PushLimits), online, log)
	svc.AttachPush(notifier)
	started := time.Now()
	if err := svc.Load(ctx); err != nil {
		return fmt.Errorf("loading groups from the event log: %w", err)
	}
	log.Info("groups loaded from the event log", "took", time.Since(started).Round(time.Millisecond))
	// The projections say who is a member of some group: restored
	// members' resources are online again, others' are not.
	restoreOnline(cfg.Data, online, log)
	lnk := link.New(link.Config{
		Addr: cfg.Server, Domain: cfg.Domain, Secret: cfg.Secret, QueueSize: cfg.QueueSize,
		StanzaLimits: cfg.Stanza, MaxOutboundBytes: cfg.MaxOutbound, Logger: log,
	}, m.Handler(svc))
	svc.Attach(m.Sender(lnk))
	m.Watch(metrics.Gauges{
		Online:       online.Count,
		Lag:          func(ctx context.Context) (uint64, error) { return projectionLag(ctx, store, proj) },
		Groups:       proj.CountGroups,
		Connected:    lnk.Connected,
		QueueLen:     lnk.QueueLen,
		BytesWritten: lnk.BytesWritten,
	})
	var web *console.Server
	if cfg.HTTP != "" {
		if web, err = listenConsole(cfg, m, store, proj, lnk, log); err != nil {
			return err
		}
	}
	notifier.Attach(lnk)
	m.WatchPush(func() metrics.PushCounts {
		st := notifier.Stats()
		return metrics.PushCounts{Queued: st.Queued, Dropped: st.Dropped, Published: st.Published,
			Delivered: st.Delivered, Failed: st.Failed, TimedOut: st.TimedOut, Disabled: st.Disabled}
	})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	start := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	start("service", svc.Run)
	start("push notifier", notifier.Run)
	if web != nil {
		start("http listener", web.Run)
	}
	start("online list", func(ctx context.Context) error { return saveOnline(ctx, cfg.Data, online, time.Second, log) })
	start("projections", func(ctx context.Context) error {
		return proj.Run(ctx, store, projections.RunOptions{OnApplied: svc.OnApplied, Logger: log})
	})
	start("component link", func(ctx context.Context) error {
		err := lnk.Run(ctx, ready)
		if errors.Is(err, link.ErrAuth) {
			return fmt.Errorf("%w (check --secret against the server's component_secret)", err)
		}
		return err
	})
	<-ctx.Done()
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		log.Info("stopped")
		return nil
	}
}

// projectionLag is how many events the log holds beyond the projections'
// checkpoint: broadcasts and queries wait for them.
func projectionLag(ctx context.Context, store eventstore.Store, proj *projections.DB) (uint64, error) {
	last, err := store.LastPosition(ctx)
	if err != nil {
		return 0, err
	}
	cp, err := proj.Checkpoint(ctx)
	if err != nil || cp >= last {
		return 0, err
	}
	return last - cp, nil
}

// listenConsole binds the --http listener: metrics, health of the store
// and the link, and the read-only web view.
func listenConsole(cfg serveConfig, m *metrics.Metrics, store eventstore.Store, proj *projections.DB, lnk *link.Link, log *slog.Logger) (*console.Server, error) {
	return console.Listen(console.Config{
		Addr: cfg.HTTP, Pprof: cfg.Pprof, Gatherer: m.Registry, Logger: log,
		Checks: []console.Check{
			{Name: "store", Func: func(ctx context.Context) error {
				if _, err := store.LastPosition(ctx); err != nil {
					return fmt.Errorf("the event log does not answer: %w", err)
				}
				if _, err := proj.Checkpoint(ctx); err != nil {
					return fmt.Errorf("the projections do not answer: %w", err)
				}
				return nil
			}},
			{Name: "link", Func: func(context.Context) error {
				if !lnk.Connected() {
					return console.ErrLinkDown
				}
				return nil
			}},
		},
		Groups: func(ctx context.Context) ([]console.Group, error) {
			gs, err := proj.ListGroups(ctx, 200)
			out := make([]console.Group, len(gs))
			for i, g := range gs {
				out[i] = console.Group{ID: g.ID, Name: g.Name, Type: string(g.Type), Members: g.Members, UpdatedAt: g.UpdatedAt}
			}
			return out, err
		},
		Audit: func(ctx context.Context, group string) ([]audit.Entry, error) { return audit.Trail(ctx, store, group) },
	})
}

// rebuildIfMissing rebuilds the projections from the log when their file is
// gone (an operator deleted it, or it is a new machine with an old log).
// Rebuilding, unlike replaying through the projector, broadcasts nothing:
// members already received those events, or will catch up on them.
func rebuildIfMissing(ctx context.Context, store eventstore.Store, path string, log *slog.Logger) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	last, err := store.LastPosition(ctx)
	if err != nil || last == 0 {
		return err
	}
	log.Info("projections missing: rebuilding them from the event log", "events_to", last)
	stats, err := replay.Rebuild(ctx, store, path, nil)
	if err != nil {
		return fmt.Errorf("rebuilding the projections: %w", err)
	}
	log.Info("projections rebuilt", "events", stats.Events, "took", (stats.Fold + stats.Write).Round(time.Millisecond))
	return nil
}

// multicastConfig is the search for the XMPP server's multicast service,
// nil when --multicast is off. The server is the component domain's parent
// (groupchat.example.org → example.org): ejabberd relays only for a
// sender in a subdomain of its host (mod_multicast's check_relay).
func multicastConfig(cfg serveConfig) *multicast.Config {
	_, server, ok := strings.Cut(cfg.Domain, ".")
	if !cfg.Multicast || !ok || server == "" {
		return nil
	}
	return &multicast.Config{Domain: cfg.Domain, Server: server, MaxAddresses: cfg.MulticastMaxAddresses}
}
