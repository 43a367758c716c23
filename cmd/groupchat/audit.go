package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/service"
)

// auditCommand lists who changed what in groups, and when, from the log.
type auditCommand struct{ out io.Writer }

// auditEntry is one group change, as the audit prints it.
type auditEntry struct {
	Time     time.Time       `json:"time"`
	Group    string          `json:"group"`
	Position uint64          `json:"position"`
	Actor    string          `json:"actor"`
	Resource string          `json:"resource,omitempty"`
	Action   string          `json:"action"`
	Name     string          `json:"name,omitempty"`
	Owner    string          `json:"owner,omitempty"`
	Members  []domain.Member `json:"members,omitempty"`
}

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
		j, err := jid.Parse(*user)
		if err != nil {
			return fmt.Errorf("--user %q is not a JID: %v", *user, err)
		}
		*user = j.Bare().String()
	}
	store, err := openStore(ctx, *storeSpec, *data, "", true)
	if err != nil {
		return err
	}
	defer store.Close()

	var entries []auditEntry
	keep := func(re eventstore.RecordedEvent) error {
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return fmt.Errorf("event at position %d: %w", re.Position, err)
		}
		entry, ok := auditOf(re, e)
		if !ok || (!from.IsZero() && entry.Time.Before(from)) || (!to.IsZero() && !entry.Time.Before(to)) {
			return nil
		}
		if *user != "" && !entry.involves(*user) {
			return nil
		}
		entries = append(entries, entry)
		return nil
	}
	if *group != "" {
		err = eachInStream(ctx, store, *group, keep)
	} else {
		err = eachInLog(ctx, store, keep)
	}
	if err != nil {
		return err
	}
	out := a.out
	if out == nil {
		out = os.Stdout
	}
	if *asJSON {
		if entries == nil {
			entries = []auditEntry{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tGROUP\tACTOR\tACTION\tDETAILS")
	for _, e := range entries {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339), e.Group, e.Actor, e.Action, e.details())
	}
	return w.Flush()
}

func (e auditEntry) involves(user string) bool {
	if e.Actor == user || e.Owner == user {
		return true
	}
	for _, m := range e.Members {
		if m.JID == user {
			return true
		}
	}
	return false
}

func (e auditEntry) details() string {
	var parts []string
	if e.Name != "" {
		parts = append(parts, fmt.Sprintf("name=%q", e.Name))
	}
	if e.Owner != "" {
		parts = append(parts, "new owner="+e.Owner)
	}
	for _, m := range e.Members {
		parts = append(parts, fmt.Sprintf("%s (mid %s, %s)", m.JID, m.MID, m.Role))
	}
	return strings.Join(parts, "; ")
}

// auditOf turns a group change into an audit entry; messages and reads are
// not changes.
func auditOf(re eventstore.RecordedEvent, e domain.Event) (auditEntry, bool) {
	var meta service.Meta
	_ = json.Unmarshal(re.Metadata, &meta)
	entry := auditEntry{Time: e.OccurredAt(), Group: re.Stream, Position: re.Position}
	if j, err := jid.Parse(meta.From); err == nil {
		entry.Resource = j.Resourcepart()
	}
	switch e := e.(type) {
	case domain.GroupCreated:
		entry.Actor, entry.Action, entry.Name, entry.Members = e.By, "created", e.Name, e.Members
	case domain.GroupUpdated:
		entry.Actor, entry.Name, entry.Owner = e.By, e.Name, e.NewOwner
		entry.Action = "updated"
		if e.Name != "" && e.NewOwner == "" {
			entry.Action = "renamed"
		} else if e.Name == "" {
			entry.Action = "handed over"
		}
	case domain.GroupDeleted:
		entry.Actor, entry.Action = e.By, "deleted"
	case domain.MemberAdded:
		entry.Actor, entry.Action, entry.Members = e.By, "added", e.Members
	case domain.MemberRemoved:
		entry.Actor, entry.Action, entry.Members = e.By, "removed", e.Members
		if len(e.Members) == 1 && e.Members[0].JID == e.By {
			entry.Action = "left"
		}
	default:
		return auditEntry{}, false
	}
	return entry, true
}

const readPage = 4096

func eachInStream(ctx context.Context, store eventstore.Store, stream string, f func(eventstore.RecordedEvent) error) error {
	var from uint64
	for {
		evs, err := store.ReadStream(ctx, stream, from, readPage)
		if err != nil {
			return err
		}
		for _, re := range evs {
			if err := f(re); err != nil {
				return err
			}
			from = re.Version + 1
		}
		if len(evs) < readPage {
			return nil
		}
	}
}

func eachInLog(ctx context.Context, store eventstore.Store, f func(eventstore.RecordedEvent) error) error {
	var after uint64
	for {
		evs, err := store.ReadAll(ctx, after, readPage)
		if err != nil {
			return err
		}
		for _, re := range evs {
			if err := f(re); err != nil {
				return err
			}
			after = re.Position
		}
		if len(evs) < readPage {
			return nil
		}
	}
}
