package loadtest

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Server is the XMPP server a run starts: it hosts the clients, the
// component and the MUC service of the anchors.
type Server int

// The servers.
const (
	Prosody  Server = iota // package prosody
	Ejabberd               // package ejabberd
)

// AllServers lists every server in report order.
var AllServers = []Server{Prosody, Ejabberd}

// String returns the name used in reports.
func (s Server) String() string {
	switch s {
	case Prosody:
		return "Prosody"
	case Ejabberd:
		return "ejabberd"
	}
	return "server(" + strconv.Itoa(int(s)) + ")"
}

// ParseServers reads "prosody", "ejabberd" or "both" (case-insensitive),
// or a comma-separated list of the first two.
func ParseServers(list string) ([]Server, error) {
	return parseList(list, func(name string) ([]Server, error) {
		switch name {
		case "both", "all":
			return AllServers, nil
		case "prosody":
			return []Server{Prosody}, nil
		case "ejabberd":
			return []Server{Ejabberd}, nil
		}
		return nil, fmt.Errorf("unknown server %q (want prosody, ejabberd or both)", name)
	})
}

// parseList reads a comma-separated list of names (case-insensitive),
// each standing for one or more values, into the values in order, each
// once.
func parseList[T comparable](list string, values func(name string) ([]T, error)) ([]T, error) {
	var out []T
	seen := map[T]bool{}
	for _, f := range strings.Split(list, ",") {
		add, err := values(strings.ToLower(strings.TrimSpace(f)))
		if err != nil {
			return nil, err
		}
		for _, v := range add {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// System is one implementation under test.
type System int

// The systems compared.
const (
	Groupchat       System = iota // the groupchat component, fanning out through the server's multicast service where it offers one
	GroupchatDirect               // the groupchat component sending one stanza per recipient (--multicast=false)
	MUC                           // the server's own XEP-0045 MUC, no archive
	MUCMAM                        // the server's own MUC, archiving every room (XEP-0313)
)

// AllSystems lists every system in report order.
var AllSystems = []System{Groupchat, GroupchatDirect, MUC, MUCMAM}

// String returns the name used in reports and on the command line.
func (s System) String() string {
	switch s {
	case Groupchat:
		return "groupchat"
	case GroupchatDirect:
		return "groupchat-direct"
	case MUC:
		return "MUC"
	case MUCMAM:
		return "MUC+MAM"
	}
	return "system(" + strconv.Itoa(int(s)) + ")"
}

// component reports whether the system is the groupchat component (in
// either of its ways of fanning out) rather than the server's MUC.
func (s System) component() bool { return s == Groupchat || s == GroupchatDirect }

// ParseSystems reads a comma-separated list of "groupchat",
// "groupchat-direct", "muc" and "muc+mam" (case-insensitive), or "all".
func ParseSystems(list string) ([]System, error) {
	return parseList(list, func(name string) ([]System, error) {
		switch name {
		case "all":
			return AllSystems, nil
		case "groupchat":
			return []System{Groupchat}, nil
		case "groupchat-direct", "direct":
			return []System{GroupchatDirect}, nil
		case "muc":
			return []System{MUC}, nil
		case "muc+mam", "mucmam", "muc-mam":
			return []System{MUCMAM}, nil
		}
		return nil, fmt.Errorf("unknown system %q (want groupchat, groupchat-direct, muc, muc+mam or all)", name)
	})
}

// Kind tells what a scenario measures.
type Kind int

// Scenario kinds.
const (
	Live  Kind = iota // messages to online members
	Storm             // offline readers reconnect at once and catch up
)

// Scenario is one workload. Live scenarios have Groups disjoint groups of
// Members members each (Groups*Members clients). A storm has one group of
// Members readers plus a poster.
type Scenario struct {
	Name    string // as given on the command line: "10x10", "storm"
	Kind    Kind
	Groups  int
	Members int
}

// Title describes the scenario in reports.
func (s Scenario) Title() string {
	if s.Kind == Storm {
		return fmt.Sprintf("catch-up storm (%d clients)", s.Members)
	}
	return fmt.Sprintf("%s x %d members", plural(s.Groups, "group"), s.Members)
}

// Clients is the number of client connections the scenario logs in.
func (s Scenario) Clients() int {
	if s.Kind == Storm {
		return s.Members + 1
	}
	return s.Groups * s.Members
}

// The scenarios of "--scenario all", in report order.
var (
	Scenario10x10 = Scenario{Name: "10x10", Kind: Live, Groups: 10, Members: 10}
	Scenario1x200 = Scenario{Name: "1x200", Kind: Live, Groups: 1, Members: 200}
	Scenario200x5 = Scenario{Name: "200x5", Kind: Live, Groups: 200, Members: 5}
	ScenarioStorm = Scenario{Name: "storm", Kind: Storm, Groups: 1, Members: 100}
)

// AllScenarios lists the scenarios of "--scenario all".
var AllScenarios = []Scenario{Scenario10x10, Scenario1x200, Scenario200x5, ScenarioStorm}

// ParseScenarios reads a comma-separated list of scenario names: "all",
// "storm", or GxM for G groups of M members ("10x10", "2x3").
func ParseScenarios(list string) ([]Scenario, error) {
	var out []Scenario
	for _, f := range strings.Split(list, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		switch f {
		case "all":
			out = append(out, AllScenarios...)
			continue
		case "storm":
			out = append(out, ScenarioStorm)
			continue
		}
		g, m, ok := strings.Cut(f, "x")
		groups, err1 := strconv.Atoi(g)
		members, err2 := strconv.Atoi(m)
		if !ok || err1 != nil || err2 != nil || groups < 1 || members < 2 {
			return nil, fmt.Errorf("unknown scenario %q (want all, storm, or GROUPSxMEMBERS such as 10x10, with at least 2 members)", f)
		}
		out = append(out, Scenario{Name: f, Kind: Live, Groups: groups, Members: members})
	}
	return out, nil
}

// Config is everything a benchmark run is told.
type Config struct {
	// Servers, Scenarios and Systems select what runs: on every server,
	// every scenario on every system, in order.
	Servers   []Server
	Scenarios []Scenario
	Systems   []System
	// Rounds is how often every system runs each scenario. The systems take
	// turns within a round, each round starting with the next system, so
	// that drift in what else the machine does falls on all of them; the
	// report gives the median over the rounds.
	Rounds int

	// Rate is the target of messages posted per second over all senders of
	// a live scenario; 0 posts as fast as the window lets each sender.
	Rate float64
	// Window bounds the messages in flight per sender: a sender posts its
	// next message only when fewer than Window of its own are not yet
	// reflected back to it.
	Window int
	// Senders is the number of members per group that post; 0 means every
	// member.
	Senders int
	// Duration is how long a live scenario posts, unless Messages is set.
	Duration time.Duration
	// Messages, if positive, is the number of messages a live scenario
	// posts in total (spread evenly over the senders) instead of posting
	// for Duration.
	Messages int
	// Drain is how long receivers may take, after the last post, to get
	// every expected delivery; what is missing then is lost. It also bounds
	// a sender stalled on a missing reflection and each setup step.
	Drain time.Duration

	// StormMessages is the number of messages posted while the storm's
	// readers are offline; StormPage the RSM page size they ask for.
	StormMessages int
	StormPage     int
	// StormTimeout bounds the storm's reconnection: a reader that has not
	// got every message by then counts what it lacks as lost.
	StormTimeout time.Duration

	// MessageRate and MessageBurst are given to the component
	// (GROUPCHAT_MESSAGE_RATE and GROUPCHAT_MESSAGE_BURST), raised far above
	// the defaults so its per-sender rate limit does not interfere.
	MessageRate  int
	MessageBurst int

	// ProsodyConfig is Lua added to the global section of every Prosody's
	// configuration, e.g. "network_settings = { read_size = 65536 }"; empty
	// keeps what package prosody generates. ejabberd runs ignore it.
	ProsodyConfig string

	// Binary is a prebuilt groupchat binary; empty builds one with go build
	// into WorkDir.
	Binary string
	// WorkDir holds the servers' directories, the component's data and the
	// built binary; empty uses a new temporary directory, removed at the
	// end.
	WorkDir string

	// Log receives progress; nil discards it.
	Log *slog.Logger
}

// DefaultConfig returns the configuration of "--scenario all" with the
// command's defaults.
func DefaultConfig() Config {
	return Config{
		Servers:       []Server{Prosody},
		Scenarios:     AllScenarios,
		Systems:       AllSystems,
		Rounds:        3,
		Window:        1,
		Senders:       5,
		Duration:      8 * time.Second,
		Drain:         20 * time.Second,
		StormMessages: 1000,
		StormPage:     500,
		StormTimeout:  3 * time.Minute,
		MessageRate:   100000,
		MessageBurst:  100000,
	}
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case len(c.Servers) == 0:
		return errors.New("no server selected")
	case len(c.Scenarios) == 0:
		return errors.New("no scenario selected")
	case len(c.Systems) == 0:
		return errors.New("no system selected")
	case c.Rounds < 1:
		return errors.New("the number of rounds must be at least 1")
	case c.Rate < 0:
		return errors.New("the rate must not be negative")
	case c.Window < 1:
		return errors.New("the window must be at least 1")
	case c.Senders < 0:
		return errors.New("senders per group must not be negative")
	case c.Messages < 0:
		return errors.New("the message count must not be negative")
	case c.Messages == 0 && c.Duration <= 0:
		return errors.New("give a positive duration or a message count")
	case c.Drain <= 0:
		return errors.New("the drain timeout must be positive")
	case c.StormMessages < 1 || c.StormPage < 1 || c.StormTimeout <= 0:
		return errors.New("storm messages, page size and timeout must be positive")
	case c.MessageRate < 1 || c.MessageBurst < 1:
		return errors.New("the component's message rate and burst must be positive")
	}
	return nil
}

func (c *Config) logger() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// sendersPer returns how many members of a group of m post.
func (c *Config) sendersPer(m int) int {
	if c.Senders == 0 || c.Senders > m {
		return m
	}
	return c.Senders
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
