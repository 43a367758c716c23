package linkwatch

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/xmpp/link"
)

// Lines as groupchat serve writes them, in its text and JSON formats.
const (
	servingText = `time=2025-01-02T03:04:05.000Z level=INFO msg="component link: authenticated and serving" domain=groupchat.example.test server=127.0.0.1:5347`
	servingJSON = `{"time":"2025-01-02T03:04:05Z","level":"INFO","msg":"component link: authenticated and serving","domain":"groupchat.example.test","server":"127.0.0.1:5347"}`
	lostText    = `time=2025-01-02T03:04:06.000Z level=WARN msg="component link: lost" server=127.0.0.1:5347 err="reading: invalid-from"`
	lostJSON    = `{"time":"2025-01-02T03:04:06Z","level":"WARN","msg":"component link: lost","server":"127.0.0.1:5347","err":"not-well-formed"}`
	failedText  = `time=2025-01-02T03:04:07.000Z level=WARN msg="component link: connection failed" server=127.0.0.1:5347 err="connection refused" retry_in=200ms`
	// A value quoting the messages, as a hostile client could make one.
	quotedText = `time=2025-01-02T03:04:08.000Z level=DEBUG msg="push publish failed" user=a@example.test error="msg=\"component link: lost\" msg=\"component link: authenticated and serving\""`
	quotedJSON = `{"time":"2025-01-02T03:04:08Z","level":"DEBUG","msg":"push publish failed","error":"\"msg\":\"component link: lost\""}`
	otherText  = `time=2025-01-02T03:04:09.000Z level=INFO msg="http listener ready" addr=127.0.0.1:8080`
	// The service refused to write what the server would refuse.
	refusedText = `time=2025-01-02T03:04:10.000Z level=WARN msg="dropping a reply" to="" err="the to address is not a prepared address: \"\": address: address part: empty"`
	refusedJSON = `{"time":"2025-01-02T03:04:10Z","level":"WARN","msg":"dropping a broadcast","to":"x@example.test/\u200b","err":"the to address is not a prepared address"}`
)

func TestKindOf(t *testing.T) {
	cases := []struct {
		name, line string
		want       Kind
	}{
		{"serving, text", servingText, Serving},
		{"serving, JSON", servingJSON, Serving},
		{"lost, text", lostText, Lost},
		{"lost, JSON", lostJSON, Lost},
		{"a failed attempt to connect is no event of its own", failedText, Other},
		{"a value quoting the messages, text", quotedText, Other},
		{"a value quoting the messages, JSON", quotedJSON, Other},
		{"the bare words, not a log record", "component link: lost", Other},
		{"another record", otherText, Other},
		{"a reply not written, text", refusedText, Refused},
		{"a broadcast not written, JSON", refusedJSON, Refused},
		{"an empty line", "", Other},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := KindOf(c.line); got != c.want {
				t.Errorf("KindOf(%q) = %v, want %v", c.line, got, c.want)
			}
		})
	}
}

// TestKindOfWhatSlogWrites writes records with slog's own handlers, as the
// component does, so the needles follow how slog really quotes.
func TestKindOfWhatSlogWrites(t *testing.T) {
	hostile := `msg="` + link.LogLost + `" "msg":"` + link.LogServing + `"`
	cases := []struct {
		name  string
		msg   string
		attrs []any
		want  Kind
	}{
		{"serving", link.LogServing, []any{"domain", "groupchat.example.test"}, Serving},
		{"lost", link.LogLost, []any{"err", "stream error: invalid-from"}, Lost},
		{"lost, with a hostile error", link.LogLost, []any{"err", hostile}, Lost},
		{"another record carrying the messages", "push publish failed", []any{"error", hostile}, Other},
		{"the message as a value", "received", []any{"body", link.LogLost}, Other},
	}
	for _, format := range []string{"text", "json"} {
		for _, c := range cases {
			t.Run(format+"/"+c.name, func(t *testing.T) {
				var buf bytes.Buffer
				var h slog.Handler = slog.NewTextHandler(&buf, nil)
				if format == "json" {
					h = slog.NewJSONHandler(&buf, nil)
				}
				slog.New(h).Warn(c.msg, c.attrs...)
				line := strings.TrimSuffix(buf.String(), "\n")
				if got := KindOf(line); got != c.want {
					t.Errorf("KindOf(%s) = %v, want %v", line, got, c.want)
				}
			})
		}
	}
}

// step is one thing that happens in a scenario: process proc logs line,
// or, when do is set, the watcher marks ("mark") or excuses ("excuse").
type step struct {
	proc int
	line string
	do   string
}

func TestLogReportsRelinksAndLosses(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
		want  Report
	}{
		{"a process's first authentication is its start",
			[]step{{0, servingText, ""}, {0, otherText, ""}},
			Report{}},
		{"the server closes the stream and the link comes back",
			[]step{{0, servingText, ""}, {0, lostText, ""}, {0, failedText, ""}, {0, servingText, ""}},
			Report{Relinks: 1, Lost: []string{lostText}}},
		{"JSON records count alike",
			[]step{{0, servingJSON, ""}, {0, lostJSON, ""}, {0, servingJSON, ""}},
			Report{Relinks: 1, Lost: []string{lostJSON}}},
		{"a process killed and started again is no relink",
			[]step{{0, servingText, ""}, {1, failedText, ""}, {1, servingText, ""}},
			Report{}},
		{"the started again process relinks",
			[]step{{0, servingText, ""}, {1, servingText, ""}, {1, lostText, ""}, {1, servingText, ""}},
			Report{Relinks: 1, Lost: []string{lostText}}},
		{"lost for good: the server is gone",
			[]step{{0, servingText, ""}, {0, lostText, ""}, {0, failedText, ""}, {0, failedText, ""}},
			Report{Lost: []string{lostText}}},
		{"a stanza the service did not write is reported",
			[]step{{0, servingText, ""}, {0, refusedText, ""}, {0, refusedJSON, ""}},
			Report{Refused: []string{refusedText, refusedJSON}}},
		{"lines quoting the messages are no events",
			[]step{{0, servingText, ""}, {0, quotedText, ""}, {0, quotedJSON, ""}},
			Report{}},
		{"what happened before the mark is left out",
			[]step{{0, servingText, ""}, {0, lostText, ""}, {0, servingText, ""}, {do: "mark"}, {0, otherText, ""}},
			Report{}},
		{"what happened after the mark is reported",
			[]step{{0, servingText, ""}, {do: "mark"}, {0, lostText, ""}, {0, servingText, ""}, {0, lostJSON, ""}, {0, servingText, ""}},
			Report{Relinks: 2, Lost: []string{lostText, lostJSON}}},
		{"an excused restart is forgiven",
			[]step{{0, servingText, ""}, {do: "mark"}, {0, lostText, ""}, {0, servingText, ""}, {do: "excuse"}},
			Report{}},
		{"a relink after the excused restart is not",
			[]step{{0, servingText, ""}, {do: "mark"}, {0, lostText, ""}, {0, servingText, ""}, {do: "excuse"}, {0, lostJSON, ""}, {0, servingText, ""}},
			Report{Relinks: 1, Lost: []string{lostJSON}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var l Log
			procs := map[int]*Process{}
			mark := 0
			for _, s := range c.steps {
				switch s.do {
				case "mark":
					mark = l.Mark()
				case "excuse":
					l.Excuse(mark)
				default:
					if procs[s.proc] == nil {
						procs[s.proc] = l.Process()
					}
					procs[s.proc].Observe(s.line)
				}
			}
			got := l.Since(mark)
			if got.Relinks != c.want.Relinks || !slices.Equal(got.Lost, c.want.Lost) || !slices.Equal(got.Refused, c.want.Refused) {
				t.Errorf("Since(mark) = %+v, want %+v", got, c.want)
			}
			if got.OK() != (c.want.Relinks == 0 && len(c.want.Lost) == 0 && len(c.want.Refused) == 0) {
				t.Errorf("OK() = %v for %+v", got.OK(), got)
			}
		})
	}
}

func TestReportString(t *testing.T) {
	cases := []struct {
		name string
		r    Report
		want []string
	}{
		{"a relink quotes the loss", Report{Relinks: 1, Lost: []string{lostText}},
			[]string{"re-authenticated 1 time(s)", "lost 1 time(s)", `err="reading: invalid-from"`}},
		{"two losses, one relink", Report{Relinks: 1, Lost: []string{lostText, lostJSON}},
			[]string{"re-authenticated 1 time(s)", "lost 2 time(s)", "invalid-from", "not-well-formed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.r.String()
			for _, w := range c.want {
				if !strings.Contains(s, w) {
					t.Errorf("%q lacks %q", s, w)
				}
			}
		})
	}
}
