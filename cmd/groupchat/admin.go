package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
)

// The admin commands read the event log, never write it, and may run
// beside the service: SQLite readers do not block its writer.

// logFlags are the flags every admin command takes to find the log.
type logFlags struct{ data, store *string }

func addLogFlags(fs *flag.FlagSet) logFlags {
	return logFlags{
		data:  fs.String("data", "./data", "the service's data directory"),
		store: fs.String("store", "", storeUsage),
	}
}

func (l logFlags) open(ctx context.Context) (eventstore.Store, error) {
	if *l.store == "" {
		if st, err := os.Stat(*l.data); err != nil {
			return nil, fmt.Errorf("--data %s: no such data directory", *l.data)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("--data %s is not a directory", *l.data)
		}
	}
	return openStore(ctx, *l.store, *l.data, "", true, slog.Default())
}

// parseWithGroup parses flags and exactly one positional argument, the
// group id, which may come before, between or after the flags.
func parseWithGroup(fs *flag.FlagSet, args []string, usage string) (string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", err
			}
			return "", errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if err := parseFlags(fs, nil); err != nil {
		return "", err
	}
	switch {
	case len(positional) == 0:
		return "", fmt.Errorf("name the group: %s", usage)
	case len(positional) > 1:
		return "", fmt.Errorf("unexpected argument %q: %s", positional[1], usage)
	}
	return positional[0], nil
}

func outOr(w io.Writer) io.Writer {
	if w == nil {
		return os.Stdout
	}
	return w
}

// groupsCommand lists the groups in the log.
type groupsCommand struct{ out io.Writer }

// groupListing is one group as `groups` lists it.
type groupListing struct {
	ID           string           `json:"id"`
	Name         string           `json:"name"`
	Type         domain.GroupType `json:"type"`
	Members      int              `json:"members"`
	Events       uint64           `json:"events"`
	LastActivity time.Time        `json:"last_activity"`
	Deleted      bool             `json:"deleted,omitempty"`
}

func (c *groupsCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("groups", flag.ContinueOnError)
	lf := addLogFlags(fs)
	all := fs.Bool("all", false, "include deleted groups")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: groupchat groups --data DIR [--all] [--json]\n\nLists the groups in the event log, the most recently active first.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := lf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	type folded struct {
		g    *domain.Group
		last time.Time
	}
	groups := map[string]*folded{}
	err = eventstore.ForEach(ctx, store, 0, func(re eventstore.RecordedEvent) error {
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return fmt.Errorf("event at position %d: %w", re.Position, err)
		}
		f := groups[re.Stream]
		if f == nil {
			// The fold needs membership, not resend detection: keep the
			// dedup window minimal.
			f = &folded{g: domain.NewGroup(domain.Limits{DedupWindow: 1})}
			groups[re.Stream] = f
		}
		f.g.Apply(e)
		f.last = e.OccurredAt()
		return nil
	})
	if err != nil {
		return err
	}
	list := make([]groupListing, 0, len(groups))
	for id, f := range groups {
		if !f.g.Created() || (f.g.Deleted() && !*all) {
			continue
		}
		list = append(list, groupListing{ID: id, Name: f.g.Name(), Type: f.g.Type(), Members: f.g.MemberCount(),
			Events: f.g.Version(), LastActivity: f.last, Deleted: f.g.Deleted()})
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].LastActivity.Equal(list[j].LastActivity) {
			return list[i].LastActivity.After(list[j].LastActivity)
		}
		return list[i].ID < list[j].ID
	})
	out := outOr(c.out)
	if *asJSON {
		return writeIndentedJSON(out, list)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tTYPE\tMEMBERS\tEVENTS\tLAST ACTIVITY")
	for _, g := range list {
		name := g.Name
		if g.Deleted {
			name += " (deleted)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%s\n", g.ID, name, g.Type, g.Members, g.Events, g.LastActivity.Format(time.RFC3339))
	}
	return w.Flush()
}

func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// foldGroup reads one group's stream into its state; it fails for a group
// the log does not hold.
func foldGroup(ctx context.Context, store eventstore.Store, id string) (*domain.Group, time.Time, error) {
	g := domain.NewGroup(domain.Limits{DedupWindow: 1})
	var last time.Time
	err := eventstore.ForEachInStream(ctx, store, id, func(re eventstore.RecordedEvent) error {
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return fmt.Errorf("event at position %d: %w", re.Position, err)
		}
		g.Apply(e)
		last = e.OccurredAt()
		return nil
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	if !g.Created() {
		return nil, time.Time{}, fmt.Errorf("no group %q in the log (groupchat groups lists them)", id)
	}
	return g, last, nil
}

// membersCommand lists a group's current members.
type membersCommand struct{ out io.Writer }

func (c *membersCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("members", flag.ContinueOnError)
	lf := addLogFlags(fs)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	const usage = "groupchat members --data DIR [--json] GROUP"
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: "+usage+"\n\nLists a group's current members, in the order they joined.\n\nFlags:")
		fs.PrintDefaults()
	}
	id, err := parseWithGroup(fs, args, usage)
	if err != nil {
		return err
	}
	store, err := lf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	g, last, err := foldGroup(ctx, store, id)
	if err != nil {
		return err
	}
	if g.Deleted() {
		return fmt.Errorf("group %q was deleted at %s; its archive remains (groupchat export)", id, last.Format(time.RFC3339))
	}
	members := g.Members()
	out := outOr(c.out)
	if *asJSON {
		return writeIndentedJSON(out, members)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "JID\tMID\tNICK\tROLE")
	for _, m := range members {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", m.JID, m.MID, m.Nick, m.Role)
	}
	return w.Flush()
}

// exportCommand writes a group's archive as JSON.
type exportCommand struct{ out io.Writer }

// exportedEvent is one event of an export.
type exportedEvent struct {
	Position uint64    `json:"position"`
	Version  uint64    `json:"version"`
	Time     time.Time `json:"time"`
	Recorded time.Time `json:"recorded,omitzero"`
	Type     string    `json:"type"`
	ID       string    `json:"id"`
	// Payload is the event's fields (its encoding's data, unwrapped).
	Payload json.RawMessage `json:"payload"`
	// Metadata is what the service recorded beside it (the sender's full
	// JID, the stanza id).
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

func (c *exportCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	lf := addLogFlags(fs)
	outPath := fs.String("out", "", "write to this file instead of standard output (replaced only when the export is complete)")
	const usage = "groupchat export --data DIR [--out FILE] GROUP"
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: "+usage+"\n\nWrites a group's archive as JSON: every event in order, with its position, time, type and payload.\n\nFlags:")
		fs.PrintDefaults()
	}
	id, err := parseWithGroup(fs, args, usage)
	if err != nil {
		return err
	}
	store, err := lf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	first, err := store.ReadStream(ctx, id, 0, 1)
	if err != nil {
		return err
	}
	if len(first) == 0 {
		return fmt.Errorf("no group %q in the log (groupchat groups --all lists them)", id)
	}

	out := outOr(c.out)
	var tmp *os.File
	if *outPath != "" {
		tmp, err = os.CreateTemp(filepath.Dir(*outPath), "."+filepath.Base(*outPath)+".*")
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		out = tmp
	}
	if err := writeExport(ctx, out, store, id); err != nil {
		return err
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		if err := os.Rename(tmp.Name(), *outPath); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	return nil
}

// writeExport streams the export, so a long archive is never held in
// memory whole.
func writeExport(ctx context.Context, w io.Writer, store eventstore.Store, id string) error {
	head, _ := json.Marshal(id)
	if _, err := fmt.Fprintf(w, "{\n  \"group\": %s,\n  \"events\": [", head); err != nil {
		return err
	}
	n := 0
	err := eventstore.ForEachInStream(ctx, store, id, func(re eventstore.RecordedEvent) error {
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return fmt.Errorf("event at position %d: %w", re.Position, err)
		}
		payload, err := json.Marshal(e)
		if err != nil {
			return err
		}
		ev := exportedEvent{Position: re.Position, Version: re.Version, Time: e.OccurredAt(), Recorded: re.Recorded,
			Type: re.Type, ID: re.ID, Payload: payload}
		if json.Valid(re.Metadata) {
			ev.Metadata = re.Metadata
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		sep := ",\n    "
		if n == 0 {
			sep = "\n    "
		}
		n++
		_, err = fmt.Fprintf(w, "%s%s", sep, b)
		return err
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(w, "\n  ]\n}\n")
	return err
}
