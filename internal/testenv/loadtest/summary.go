package loadtest

import (
	"slices"
	"time"
)

// Summary is one system's figures on one scenario over every round: the
// median of each figure over the rounds that ran, and the totals of what
// must stay zero.
type Summary struct {
	// Ran is the number of rounds that produced measurements, Failed the
	// number that did not; Skipped says why the system did not run the
	// scenario at all.
	Ran, Failed int
	Skipped     string

	PerSecond               float64
	P50, P95, P99, Max      time.Duration
	CPUServer, CPUComponent time.Duration
	// LinkBytesPerMessage is the median of Result.LinkBytesPerMessage, 0
	// where no run has one.
	LinkBytesPerMessage float64
	Lost, Duplicated    int64
}

// Summarize gathers the rounds of sys on sc behind server.
func (rep *Report) Summarize(server Server, sc Scenario, sys System) Summary {
	var s Summary
	var rate, link []float64
	var p50, p95, p99, mx, cpuP, cpuC []time.Duration
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Server != server || r.Scenario != sc || r.System != sys {
			continue
		}
		switch {
		case r.Skipped != "":
			s.Skipped = r.Skipped
			continue
		case !r.Ran():
			s.Failed++
			continue
		}
		s.Ran++
		s.Lost += r.Lost
		s.Duplicated += r.Duplicated
		rate = append(rate, r.PerSecond())
		p50, p95 = append(p50, r.Latency.P50), append(p95, r.Latency.P95)
		p99, mx = append(p99, r.Latency.P99), append(mx, r.Latency.Max)
		cpuP, cpuC = append(cpuP, r.CPUServer), append(cpuC, r.CPUComponent)
		if b := r.LinkBytesPerMessage(); b > 0 {
			link = append(link, b)
		}
	}
	if s.Ran == 0 {
		return s
	}
	s.PerSecond = median(rate)
	s.P50, s.P95, s.P99, s.Max = median(p50), median(p95), median(p99), median(mx)
	s.CPUServer, s.CPUComponent = median(cpuP), median(cpuC)
	if len(link) > 0 {
		s.LinkBytesPerMessage = median(link)
	}
	return s
}

// Ratio is one system's figure over another's behind the same server,
// taken round by round (the two ran one right after the other), summarized
// over the rounds.
type Ratio struct {
	N                int
	Median, Min, Max float64
}

// RatioTo compares sys with base on sc behind server, round by round,
// through figure.
func (rep *Report) RatioTo(server Server, sc Scenario, sys, base System, figure func(*Result) float64) Ratio {
	var ratios []float64
	for i := range rep.Results {
		g := &rep.Results[i]
		if g.Server != server || g.Scenario != sc || g.System != sys || !g.Ran() {
			continue
		}
		for j := range rep.Results {
			o := &rep.Results[j]
			if o.Server == server && o.Scenario == sc && o.System == base && o.Round == g.Round && o.Ran() && figure(o) > 0 {
				ratios = append(ratios, figure(g)/figure(o))
			}
		}
	}
	if len(ratios) == 0 {
		return Ratio{}
	}
	return Ratio{N: len(ratios), Median: median(ratios), Min: slices.Min(ratios), Max: slices.Max(ratios)}
}

// median of the values (the mean of the middle two for an even count); it
// sorts a copy.
func median[T float64 | time.Duration](values []T) T {
	v := slices.Clone(values)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
