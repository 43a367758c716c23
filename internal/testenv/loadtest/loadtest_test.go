package loadtest

import (
	"bytes"
	"image/png"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uuchat/groupchat/internal/metrics"
	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

func TestLiveMessageCarriesSenderSequenceAndTime(t *testing.T) {
	b := appendLiveMessage(nil, "g0001@groupchat.bench.test", 12, 345, 6789*time.Microsecond)
	s, err := xmppclient.ParseStanza(string(b))
	if err != nil {
		t.Fatalf("the message is not well-formed XML: %v\n%s", err, b)
	}
	if s.To() != "g0001@groupchat.bench.test" || s.Type() != "groupchat" {
		t.Errorf("want a groupchat message to the group, got %s", s)
	}
	snd, seq, at, ok := parseLiveBody(s.ChildText("", "body"))
	if !ok || snd != 12 || seq != 345 || at != 6789*time.Microsecond {
		t.Errorf("body %q read as sender %d, seq %d, at %v, ok %v", s.ChildText("", "body"), snd, seq, at, ok)
	}
	snd, seq, ok = parseLiveID(s.ID())
	if !ok || snd != 12 || seq != 345 {
		t.Errorf("id %q read as sender %d, seq %d, ok %v", s.ID(), snd, seq, ok)
	}
}

func TestParseLiveBodyRefusesOtherText(t *testing.T) {
	for _, body := range []string{"", "hello", "lt ", "lt 1 2", "lt 1 2 x", "lt 1 2 3 4", "lt -1 2 3", "st 1"} {
		if _, _, _, ok := parseLiveBody(body); ok {
			t.Errorf("parseLiveBody(%q) accepted it", body)
		}
	}
}

func TestPercentilesAreNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := percentiles(d)
	want := Latencies{N: 100, P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Errorf("percentiles of 1..100 ms = %+v, want %+v", got, want)
	}
	if got := percentiles([]time.Duration{7}); got.P50 != 7 || got.P99 != 7 || got.Max != 7 {
		t.Errorf("percentiles of one value = %+v, want that value everywhere", got)
	}
	if got := percentiles(nil); got != (Latencies{}) {
		t.Errorf("percentiles of nothing = %+v, want zero", got)
	}
}

func TestParseScenarios(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{in: "all", want: []string{"10x10", "1x200", "200x5", "storm"}},
		{in: "storm", want: []string{"storm"}},
		{in: "2x3, 10x10", want: []string{"2x3", "10x10"}},
		{in: "1x1", err: true},
		{in: "ten", err: true},
		{in: "", err: true},
	}
	for _, tt := range tests {
		got, err := ParseScenarios(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseScenarios(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		var names []string
		for _, s := range got {
			names = append(names, s.Name)
		}
		if !tt.err && !reflect.DeepEqual(names, tt.want) {
			t.Errorf("ParseScenarios(%q) = %v, want %v", tt.in, names, tt.want)
		}
	}
}

func TestParseSystems(t *testing.T) {
	tests := []struct {
		in   string
		want []System
		err  bool
	}{
		{in: "MUC+MAM,groupchat,muc+mam", want: []System{MUCMAM, Groupchat}},
		{in: "all", want: []System{Groupchat, GroupchatDirect, MUC, MUCMAM}},
		{in: "groupchat-direct, groupchat", want: []System{GroupchatDirect, Groupchat}},
		{in: "ejabberd", err: true},
	}
	for _, tt := range tests {
		got, err := ParseSystems(tt.in)
		if (err != nil) != tt.err || !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSystems(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseServers(t *testing.T) {
	tests := []struct {
		in   string
		want []Server
		err  bool
	}{
		{in: "prosody", want: []Server{Prosody}},
		{in: "ejabberd", want: []Server{Ejabberd}},
		{in: "both", want: []Server{Prosody, Ejabberd}},
		{in: "Ejabberd,prosody,ejabberd", want: []Server{Ejabberd, Prosody}},
		{in: "openfire", err: true},
		{in: "", err: true},
	}
	for _, tt := range tests {
		got, err := ParseServers(tt.in)
		if (err != nil) != tt.err || !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseServers(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestCounterValueReadsTheLinkBytes(t *testing.T) {
	const sample = `# HELP groupchat_link_bytes_written_total Stanza bytes written to the XMPP server over the component link, over every connection.
# TYPE groupchat_link_bytes_written_total counter
groupchat_link_bytes_written_total 1.234567e+06
# HELP groupchat_link_bytes_written_total_created Not this one.
groupchat_link_bytes_written_total_created 1.7e+09
groupchat_stanzas_sent_total{kind="message"} 12
`
	tests := []struct {
		name, text string
		want       float64
		err        bool
	}{
		{name: "exposition", text: sample, want: 1234567},
		{name: "with a timestamp", text: "groupchat_link_bytes_written_total 42 1700000000000\n", want: 42},
		{name: "absent", text: "groupchat_link_bytes_written_total_created 1\n", err: true},
		{name: "not a number", text: "groupchat_link_bytes_written_total many\n", err: true},
	}
	for _, tt := range tests {
		got, err := counterValue(strings.NewReader(tt.text), metrics.LinkBytesWritten)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("%s: counterValue = %v, %v; want %v, error %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}

// sampleReport has three rounds of every scenario and system of the
// default configuration behind each of servers, the MUC side of the storm
// skipped as in a real run. groupchat's throughput varies from round to
// round (x1, x0.9, x1.2); the other systems' does not. Each live run posts
// 100 messages; the component writes 300 bytes per message with multicast
// and 900 without.
func sampleReport(servers ...Server) *Report {
	rep := &Report{Config: DefaultConfig()}
	rep.Config.Servers = servers
	factor := []float64{1, 0.9, 1.2}
	for _, server := range servers {
		for round := 1; round <= rep.Config.Rounds; round++ {
			for i, sc := range rep.Config.Scenarios {
				for j, sys := range rep.Config.Systems {
					delivered := float64(1000 * (i + 1) * (j + 2))
					if sys == Groupchat {
						delivered *= factor[round-1]
					}
					r := Result{Server: server, Scenario: sc, System: sys, Round: round, Delivered: int64(delivered), Elapsed: time.Second, Sent: 100}
					r.Latency.P99 = time.Duration(i*j+1) * 37 * time.Millisecond
					switch {
					case sc.Kind == Storm && sys == MUC:
						r = Result{Server: server, Scenario: sc, System: sys, Round: round, Skipped: "no archive"}
					case sc.Kind == Live && sys == Groupchat:
						r.LinkBytes = 300 * r.Sent
					case sc.Kind == Live && sys == GroupchatDirect:
						r.LinkBytes = 900 * r.Sent
					}
					rep.Results = append(rep.Results, r)
				}
			}
		}
	}
	return rep
}

func TestMarkdownHasMediansRatiosAndEveryRun(t *testing.T) {
	md := Markdown(sampleReport(Ejabberd))
	// 10 groups x 10 members: groupchat 2000, 1800, 2400/s against MUC+MAM's
	// 5000/s, both p99 37 ms; groupchat-direct 3000/s.
	for _, want := range []string{
		"# Load benchmark: groupchat and ejabberd's MUC",
		"| CPU s server | CPU s component | link bytes/message |",
		"server CPU per delivery",
		"| ejabberd | 10 groups x 10 members | groupchat | 3 | 2000 | ",
		"| 300 | 0.40 (0.36–0.48) | 1.00 (1.00–1.00) |",
		"| ejabberd | 10 groups x 10 members | groupchat-direct | 3 | 3000 | ",
		"| 900 | 0.60 (0.60–0.60) | 1.00 (1.00–1.00) |",
		"| ejabberd | catch-up storm (100 clients) | MUC | 0 | skipped |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Prosody:") {
		t.Errorf("a report of ejabberd runs describes Prosody:\n%s", md)
	}
	if n := strings.Count(md, "| 1 group x 200 members |"); n != 4+12 {
		t.Errorf("want 4 summary rows and 12 runs for 1x200, got %d rows", n)
	}
}

func TestMarkdownComparesWithinEachServer(t *testing.T) {
	rep := sampleReport(Prosody, Ejabberd)
	// ejabberd's MUC+MAM is twice as fast as Prosody's: its ratios halve.
	for i := range rep.Results {
		if r := &rep.Results[i]; r.Server == Ejabberd && r.System == MUCMAM {
			r.Delivered *= 2
		}
	}
	md := Markdown(rep)
	for _, want := range []string{
		"# Load benchmark: groupchat and Prosody's and ejabberd's MUC",
		"| Prosody | 10 groups x 10 members | groupchat | 3 | 2000 | ",
		"| 300 | 0.40 (0.36–0.48) |",
		"| ejabberd | 10 groups x 10 members | groupchat | 3 | 2000 | ",
		"| 300 | 0.20 (0.18–0.24) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
}

func TestSummarizeTakesMediansAndCountsFailures(t *testing.T) {
	sc := Scenario{Name: "1x2", Kind: Live, Groups: 1, Members: 2}
	run := func(round int, perSecond int64, p99 time.Duration) Result {
		r := Result{Server: Prosody, Scenario: sc, System: Groupchat, Round: round, Delivered: perSecond, Elapsed: time.Second, Lost: 1}
		r.Latency.P99 = p99
		return r
	}
	rep := &Report{Results: []Result{
		run(1, 100, 40*time.Millisecond),
		run(2, 300, 10*time.Millisecond),
		{Server: Prosody, Scenario: sc, System: Groupchat, Round: 3, Err: "prosody did not start"},
		run(4, 200, 30*time.Millisecond),
		run(5, 400, 20*time.Millisecond),
	}}
	got := rep.Summarize(Prosody, sc, Groupchat)
	want := Summary{Ran: 4, Failed: 1, PerSecond: 250, P99: 25 * time.Millisecond, Lost: 4}
	if got.Ran != want.Ran || got.Failed != want.Failed || got.PerSecond != want.PerSecond || got.P99 != want.P99 || got.Lost != want.Lost {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if got := rep.Summarize(Ejabberd, sc, Groupchat); got.Ran != 0 {
		t.Errorf("Summarize mixes in another server's runs: %+v", got)
	}
	if r := rep.RatioTo(Prosody, sc, Groupchat, MUCMAM, func(r *Result) float64 { return r.PerSecond() }); r.N != 0 {
		t.Errorf("a ratio to a system that never ran: %+v", r)
	}
}

func TestChartIsAPNGWithARowPerServerAndScenario(t *testing.T) {
	b, err := ChartPNG(sampleReport(Prosody, Ejabberd))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	wantH := headerHeight + 2*4*(rowTitle+panelHeight+chartMargin) + chartMargin
	if got := img.Bounds(); got.Dx() != chartWidth || got.Dy() != wantH {
		t.Errorf("chart is %dx%d, want %dx%d", got.Dx(), got.Dy(), chartWidth, wantH)
	}
}

func TestGlyphsAreFiveBySeven(t *testing.T) {
	for r, g := range glyphs {
		for i, row := range g {
			if len(row) != 5 || strings.Trim(row, ".#") != "" {
				t.Errorf("glyph %q row %d is %q; want five of '.' and '#'", r, i, row)
			}
		}
	}
}
