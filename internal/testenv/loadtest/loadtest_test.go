package loadtest

import (
	"bytes"
	"image/png"
	"reflect"
	"strings"
	"testing"
	"time"

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
	got, err := ParseSystems("MUC+MAM,groupchat,muc+mam")
	if err != nil || !reflect.DeepEqual(got, []System{MUCMAM, Groupchat}) {
		t.Errorf("ParseSystems = %v, %v; want [MUC+MAM groupchat] without repeats", got, err)
	}
	if _, err := ParseSystems("ejabberd"); err == nil {
		t.Error("ParseSystems accepted an unknown system")
	}
}

// sampleReport has three rounds of every scenario and system of the
// default configuration, the MUC side of the storm skipped as in a real run.
// groupchat's throughput varies from round to round (x1, x0.9, x1.2); the
// other systems' does not.
func sampleReport() *Report {
	rep := &Report{Config: DefaultConfig()}
	factor := []float64{1, 0.9, 1.2}
	for round := 1; round <= rep.Config.Rounds; round++ {
		for i, sc := range rep.Config.Scenarios {
			for j, sys := range rep.Config.Systems {
				delivered := float64(1000 * (i + 1) * (j + 2))
				if sys == Groupchat {
					delivered *= factor[round-1]
				}
				r := Result{Scenario: sc, System: sys, Round: round, Delivered: int64(delivered), Elapsed: time.Second}
				r.Latency.P99 = time.Duration(i*j+1) * 37 * time.Millisecond
				if sc.Kind == Storm && sys == MUC {
					r = Result{Scenario: sc, System: sys, Round: round, Skipped: "no archive"}
				}
				rep.Results = append(rep.Results, r)
			}
		}
	}
	return rep
}

func TestMarkdownHasMediansRatiosAndEveryRun(t *testing.T) {
	md := Markdown(sampleReport())
	// 10 groups x 10 members: groupchat 2000, 1800, 2400/s against MUC+MAM's
	// 4000/s, both p99 37 ms.
	if !strings.Contains(md, "| 10 groups x 10 members | groupchat | 3 | 2000 | ") {
		t.Errorf("the groupchat row of 10x10 lacks its rounds or its median throughput:\n%s", md)
	}
	if !strings.Contains(md, "| 0.50 (0.45–0.60) | 1.00 (1.00–1.00) |") {
		t.Errorf("the groupchat row of 10x10 lacks its ratios to MUC+MAM round by round:\n%s", md)
	}
	if !strings.Contains(md, "| catch-up storm (100 clients) | MUC | 0 | skipped |") {
		t.Errorf("the skipped MUC storm is not marked skipped:\n%s", md)
	}
	if n := strings.Count(md, "\n| 1 group x 200 members |"); n != 3+9 {
		t.Errorf("want 3 summary rows and 9 runs for 1x200, got %d rows", n)
	}
}

func TestSummarizeTakesMediansAndCountsFailures(t *testing.T) {
	sc := Scenario{Name: "1x2", Kind: Live, Groups: 1, Members: 2}
	run := func(round int, perSecond int64, p99 time.Duration) Result {
		r := Result{Scenario: sc, System: Groupchat, Round: round, Delivered: perSecond, Elapsed: time.Second, Lost: 1}
		r.Latency.P99 = p99
		return r
	}
	rep := &Report{Results: []Result{
		run(1, 100, 40*time.Millisecond),
		run(2, 300, 10*time.Millisecond),
		{Scenario: sc, System: Groupchat, Round: 3, Err: "prosody did not start"},
		run(4, 200, 30*time.Millisecond),
		run(5, 400, 20*time.Millisecond),
	}}
	got := rep.Summarize(sc, Groupchat)
	want := Summary{Ran: 4, Failed: 1, PerSecond: 250, P99: 25 * time.Millisecond, Lost: 4}
	if got.Ran != want.Ran || got.Failed != want.Failed || got.PerSecond != want.PerSecond || got.P99 != want.P99 || got.Lost != want.Lost {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if r := rep.RatioTo(sc, MUCMAM, func(r *Result) float64 { return r.PerSecond() }); r.N != 0 {
		t.Errorf("a ratio to a system that never ran: %+v", r)
	}
}

func TestChartIsAPNGWithARowPerScenario(t *testing.T) {
	b, err := ChartPNG(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	wantH := headerHeight + 4*(rowTitle+panelHeight+chartMargin) + chartMargin
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
