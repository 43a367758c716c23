package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/uuchat/groupchat/internal/audit"
	"github.com/uuchat/groupchat/xmpp/address"
)

// auditCommand lists who changed what in groups, and when, from the log.
type auditCommand struct{ out io.Writer }

func (a *auditCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	data := fs.String("data", "./data", "the service's data directory")
	storeSpec := fs.String("store", "", storeUsage)
	group := fs.String("group", "", "only this group (its id)")
	user := fs.String("user", "", "only changes made by or affecting this bare JID")
	since := fs.String("since", "", "only changes at or after this time (RFC 3339, e.g. 2026-01-02T15:04:05Z)")
	until := fs.String("until", "", "only changes before this time (RFC 3339)")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: groupchat audit [flags]\n\nLists group changes (create, rename, ownership, delete, add, remove, leave) from the event log.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var from, to time.Time
	var err error
	if *since != "" {
		if from, err = time.Parse(time.RFC3339, *since); err != nil {
			return fmt.Errorf("--since: %v", err)
		}
	}
	if *until != "" {
		if to, err = time.Parse(time.RFC3339, *until); err != nil {
			return fmt.Errorf("--until: %v", err)
		}
	}
	if *user != "" {
		j, err := address.Parse(*user)
		if err != nil {
			return fmt.Errorf("--user %q is not a JID: %v", *user, err)
		}
		*user = j.Bare().String()
	}
	store, err := openStore(ctx, *storeSpec, *data, "", true, slog.Default())
	if err != nil {
		return err
	}
	defer store.Close()

	var entries []audit.Entry
	err = audit.Each(ctx, store, *group, func(entry audit.Entry) error {
		if (!from.IsZero() && entry.Time.Before(from)) || (!to.IsZero() && !entry.Time.Before(to)) {
			return nil
		}
		if *user != "" && !entry.Involves(*user) {
			return nil
		}
		entries = append(entries, entry)
		return nil
	})
	if err != nil {
		return err
	}
	out := a.out
	if out == nil {
		out = os.Stdout
	}
	if *asJSON {
		if entries == nil {
			entries = []audit.Entry{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tGROUP\tACTOR\tACTION\tDETAILS")
	for _, e := range entries {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339), e.Group, e.Actor, e.Action, e.Details())
	}
	return w.Flush()
}
