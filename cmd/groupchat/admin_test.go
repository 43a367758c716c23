package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/projections/projectionstest"
)

// adminData writes a log to a fresh data directory: "team" with three
// members and two messages, "gone" created then deleted.
func adminData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	l := projectionstest.NewLog()
	alice := domain.Member{JID: "alice@example.org", MID: "alice", Nick: "Alice"}
	bob := domain.Member{JID: "bob@example.org", MID: "bob"}
	carol := domain.Member{JID: "carol@example.org", MID: "carol"}
	l.Must(t, "team", domain.CreateGroup{GroupID: "team", Name: "The Team", Type: domain.TypeCustomized, Creator: alice, Members: []domain.Member{bob}})
	l.Must(t, "team", domain.PostMessage{Sender: alice.JID, ID: "m1", Body: "hello"})
	l.Must(t, "gone", domain.CreateGroup{GroupID: "gone", Name: "Gone", Type: domain.TypeSystem, Creator: bob})
	l.Must(t, "team", domain.AddMembers{By: alice.JID, Members: []domain.Member{carol}})
	l.Must(t, "team", domain.PostMessage{Sender: bob.JID, ID: "m2", Body: "hi all"})
	l.Must(t, "gone", domain.DeleteGroup{By: bob.JID})
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := l.AppendTo(t.Context(), store); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestGroupsCommand(t *testing.T) {
	data := adminData(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"table", []string{"--data", data}, []string{"ID", "LAST ACTIVITY", "team", "The Team", "customized", "  3  "}, []string{"gone"}},
		{"with deleted groups", []string{"--data", data, "--all"}, []string{"team", "Gone (deleted)", "system"}, nil},
		{"from the environment", nil, []string{"The Team"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GROUPCHAT_DATA", data)
			var out bytes.Buffer
			if err := (&groupsCommand{out: &out}).Run(t.Context(), tc.args); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("the list lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.not {
				if strings.Contains(out.String(), w) {
					t.Errorf("the list shows %q:\n%s", w, out.String())
				}
			}
		})
	}
	var out bytes.Buffer
	if err := (&groupsCommand{out: &out}).Run(t.Context(), []string{"--data", data, "--all", "--json"}); err != nil {
		t.Fatal(err)
	}
	var list []groupListing
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		t.Fatalf("--json is not JSON: %v\n%s", err, out.String())
	}
	// "gone" changed last (its deletion), so it comes first.
	if len(list) != 2 || list[0].ID != "gone" || !list[0].Deleted || list[1].ID != "team" || list[1].Members != 3 || list[1].Events != 4 || list[1].LastActivity.IsZero() {
		t.Errorf("groups --all --json = %+v", list)
	}
}

func TestMembersCommand(t *testing.T) {
	data := adminData(t)
	var out bytes.Buffer
	// The group may come before the flags too.
	if err := (&membersCommand{out: &out}).Run(t.Context(), []string{"team", "--data", data, "--json"}); err != nil {
		t.Fatal(err)
	}
	var members []domain.Member
	if err := json.Unmarshal(out.Bytes(), &members); err != nil {
		t.Fatalf("--json is not JSON: %v\n%s", err, out.String())
	}
	var jids []string
	for _, m := range members {
		jids = append(jids, m.JID+"="+string(m.Role))
	}
	if got := strings.Join(jids, ","); got != "alice@example.org=owner,bob@example.org=member,carol@example.org=member" {
		t.Errorf("members of team = %s", got)
	}
	out.Reset()
	if err := (&membersCommand{out: &out}).Run(t.Context(), []string{"--data", data, "team"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "alice@example.org") || !strings.Contains(out.String(), "Alice") || !strings.Contains(out.String(), "ROLE") {
		t.Errorf("members table:\n%s", out.String())
	}
}

func TestExportCommand(t *testing.T) {
	data := adminData(t)
	file := filepath.Join(t.TempDir(), "team.json")
	var out bytes.Buffer
	if err := (&exportCommand{out: &out}).Run(t.Context(), []string{"--data", data, "--out", file, "team"}); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("with --out nothing goes to standard output, got %s", out.String())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var export struct {
		Group  string
		Events []struct {
			Position, Version uint64
			Time              string
			Type, ID          string
			Payload           map[string]any
		}
	}
	if err := json.Unmarshal(b, &export); err != nil {
		t.Fatalf("the export is not JSON: %v\n%s", err, b)
	}
	var types []string
	var last uint64
	for i, e := range export.Events {
		types = append(types, e.Type)
		if e.Version != uint64(i) || e.Position <= last || e.Time == "" || e.ID == "" {
			t.Errorf("event %d: %+v", i, e)
		}
		last = e.Position
	}
	if export.Group != "team" || strings.Join(types, ",") != "GroupCreated,MessagePosted,MemberAdded,MessagePosted" {
		t.Errorf("export of team: group %q, types %v", export.Group, types)
	}
	if body := export.Events[3].Payload["body"]; body != "hi all" {
		t.Errorf("the message's payload carries its body: %v", export.Events[3].Payload)
	}
	// A deleted group's archive is still exported, to standard output.
	out.Reset()
	if err := (&exportCommand{out: &out}).Run(t.Context(), []string{"--data", data, "gone"}); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out.Bytes()) || !strings.Contains(out.String(), "GroupDeleted") {
		t.Errorf("export of a deleted group:\n%s", out.String())
	}
}

// TestAdminCommandErrors: every bad input is a non-zero exit with a message
// naming the problem, and no partial output file.
func TestAdminCommandErrors(t *testing.T) {
	data := adminData(t)
	outFile := filepath.Join(t.TempDir(), "out.json")
	for _, tc := range []struct {
		name string
		cmd  command
		args []string
		want string
	}{
		{"groups: missing data directory", &groupsCommand{}, []string{"--data", "/nonexistent/data"}, "/nonexistent/data: no such data directory"},
		{"groups: data directory without a log", &groupsCommand{}, []string{"--data", t.TempDir()}, "no event log at"},
		{"groups: unexpected argument", &groupsCommand{}, []string{"--data", data, "team"}, `unexpected argument "team"`},
		{"members: unknown group", &membersCommand{}, []string{"--data", data, "nosuch"}, `no group "nosuch"`},
		{"members: deleted group", &membersCommand{}, []string{"--data", data, "gone"}, `group "gone" was deleted`},
		{"members: no group named", &membersCommand{}, []string{"--data", data}, "name the group"},
		{"members: two groups", &membersCommand{}, []string{"--data", data, "team", "gone"}, `unexpected argument "gone"`},
		{"members: missing data directory", &membersCommand{}, []string{"--data", "/nonexistent/data", "team"}, "no such data directory"},
		{"export: unknown group", &exportCommand{}, []string{"--data", data, "--out", outFile, "nosuch"}, `no group "nosuch"`},
		{"export: unwritable output", &exportCommand{}, []string{"--data", data, "--out", "/nonexistent/dir/out.json", "team"}, "--out"},
		{"export: no group named", &exportCommand{}, []string{"--data", data}, "name the group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cmd.Run(t.Context(), tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(outFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed export left %s behind (%v)", outFile, err)
	}
	for _, c := range []command{&groupsCommand{}, &membersCommand{}, &exportCommand{}} {
		if err := c.Run(t.Context(), []string{"--data", data, "--no-such-flag", "team"}); !errors.Is(err, errUsage) {
			t.Errorf("%T with an unknown flag: %v, want the usage error", c, err)
		}
	}
}
