// Command groupchat-bench is the end-to-end load benchmark: it starts its own
// Prosody or ejabberd, builds and starts "groupchat serve", logs in real
// clients and compares the group chat service, with and without the
// server's multicast, with the server's own MUC, with and without archives.
// The logic is in internal/testenv/loadtest; this is the wiring.
//
//	go run ./cmd/groupchat-bench --scenario all --markdown docs/bench/load.md --chart docs/bench/load.png
//	go run ./cmd/groupchat-bench --server ejabberd --scenario 10x10,1x200
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/uuchat/groupchat/internal/testenv/loadtest"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	cfg := loadtest.DefaultConfig()
	fs := flag.NewFlagSet("groupchat-bench", flag.ContinueOnError)
	servers := fs.String("server", "prosody", "the XMPP server: prosody, ejabberd, or both (one after the other)")
	scenarios := fs.String("scenario", "all", "comma-separated scenarios: all, storm, or GROUPSxMEMBERS (10x10, 1x200, 200x5, ...)")
	systems := fs.String("systems", "all", "comma-separated systems: groupchat, groupchat-direct (--multicast=false), muc, muc+mam, or all")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "how often every system runs each scenario (taking turns); the report gives medians")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "target messages per second over all senders of a live scenario (0: as fast as the window allows)")
	fs.IntVar(&cfg.Window, "window", cfg.Window, "messages in flight per sender (not yet reflected back to it)")
	fs.IntVar(&cfg.Senders, "senders", cfg.Senders, "members posting per group (0: every member)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long a live scenario posts")
	fs.IntVar(&cfg.Messages, "messages", cfg.Messages, "messages a live scenario posts in total, instead of --duration (0: use --duration)")
	fs.DurationVar(&cfg.Drain, "drain", cfg.Drain, "how long receivers may take after the last post before missing deliveries count as lost")
	fs.IntVar(&cfg.StormMessages, "storm-messages", cfg.StormMessages, "messages posted while the catch-up storm's readers are offline")
	fs.IntVar(&cfg.StormPage, "storm-page", cfg.StormPage, "RSM page size the storm's readers ask for")
	fs.DurationVar(&cfg.StormTimeout, "storm-timeout", cfg.StormTimeout, "how long the storm's readers may take to catch up before what they lack counts as lost")
	fs.IntVar(&cfg.MessageRate, "message-rate", cfg.MessageRate, "GROUPCHAT_MESSAGE_RATE given to the component, raised so its rate limit does not interfere")
	fs.IntVar(&cfg.MessageBurst, "message-burst", cfg.MessageBurst, "GROUPCHAT_MESSAGE_BURST given to the component")
	fs.StringVar(&cfg.ProsodyConfig, "prosody-config", "", "Lua added to Prosody's global configuration, e.g. 'network_settings = { read_size = 65536 }' (default: none; not for ejabberd)")
	fs.StringVar(&cfg.Binary, "binary", "", "a prebuilt groupchat binary (default: go build one)")
	fs.StringVar(&cfg.WorkDir, "workdir", "", "keep the servers' and the component's files here (default: a temporary directory, removed)")
	markdown := fs.String("markdown", "", "also write the Markdown report to this file")
	chart := fs.String("chart", "", "write a PNG chart of throughput and p99 per scenario to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "groupchat-bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var err error
	if cfg.Servers, err = loadtest.ParseServers(*servers); err != nil {
		fmt.Fprintln(os.Stderr, "groupchat-bench:", err)
		return 2
	}
	if cfg.Scenarios, err = loadtest.ParseScenarios(*scenarios); err != nil {
		fmt.Fprintln(os.Stderr, "groupchat-bench:", err)
		return 2
	}
	if cfg.Systems, err = loadtest.ParseSystems(*systems); err != nil {
		fmt.Fprintln(os.Stderr, "groupchat-bench:", err)
		return 2
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := loadtest.Run(ctx, cfg)
	if rep == nil {
		fmt.Fprintln(os.Stderr, "groupchat-bench:", err)
		return 1
	}
	rep.Command = commandLine(args)
	text := loadtest.Markdown(rep)
	fmt.Print(text)
	code := 0
	if err != nil {
		fmt.Fprintln(os.Stderr, "groupchat-bench:", err)
		code = 1
	}
	if *markdown != "" {
		if err := writeFile(*markdown, []byte(text)); err != nil {
			fmt.Fprintln(os.Stderr, "groupchat-bench:", err)
			code = 1
		}
	}
	if *chart != "" {
		png, err := loadtest.ChartPNG(rep)
		if err == nil {
			err = writeFile(*chart, png)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "groupchat-bench:", err)
			code = 1
		}
	}
	if rep.Failed() {
		code = 1
	}
	return code
}

// commandLine renders how the benchmark was invoked: "go run" builds into a
// temporary go-build directory, which is not worth showing.
func commandLine(args []string) string {
	name := os.Args[0]
	if strings.Contains(name, "go-build") {
		name = "go run ./cmd/groupchat-bench"
	}
	parts := []string{name}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$`\\|&;<>()*?[]{}!#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func writeFile(name string, b []byte) error {
	if dir := filepath.Dir(name); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(name, b, 0o644)
}
