package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand: it parses its own flags and runs until done or
// until ctx is cancelled (SIGINT/SIGTERM).
type command interface {
	Run(ctx context.Context, args []string) error
}

type commandInfo struct {
	new     func() command
	summary string
}

var commands = map[string]commandInfo{
	"serve":   {func() command { return &serveCommand{} }, "run the component against an XMPP server"},
	"dev":     {func() command { return &devCommand{} }, "start Prosody (or ejabberd) and the component on loopback, with demo accounts"},
	"audit":   {func() command { return &auditCommand{} }, "list who created, renamed, deleted, added and removed whom, and when"},
	"replay":  {func() command { return &replayCommand{} }, "rebuild the projections from the event log (or --verify them)"},
	"groups":  {func() command { return &groupsCommand{} }, "list the groups: id, name, type, members, last activity"},
	"members": {func() command { return &membersCommand{} }, "list a group's members"},
	"export":  {func() command { return &exportCommand{} }, "write a group's archive (every event) as JSON"},
}

// errUsage marks an error already explained to the user (bad flags).
var errUsage = errors.New("usage")

func run(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	info, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "groupchat: unknown command %q\n\n", args[0])
		usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := info.new().Run(ctx, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if !errors.Is(err, errUsage) {
			fmt.Fprintf(os.Stderr, "groupchat %s: %v\n", args[0], err)
		}
		return 1
	}
	return 0
}

func usage() {
	fmt.Fprintln(os.Stderr, "Usage: groupchat <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun 'groupchat <command> --help' for its flags.")
}

// envPrefix prefixes the environment variable of every flag: --max-members
// is also GROUPCHAT_MAX_MEMBERS.
const envPrefix = "GROUPCHAT_"

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
