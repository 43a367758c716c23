package loadtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Markdown renders the report: how it was made, the results table, how to
// read it, and the details of every run.
func Markdown(rep *Report) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	cfg, env := rep.Config, rep.Env

	w("# Load benchmark: groupchat and %s MUC", serversText(cfg.Servers))
	w("")
	if rep.Command != "" {
		w("- Command: `%s`", rep.Command)
	}
	w("- Run: %s, took %s", rep.Started.UTC().Format("2006-01-02 15:04 UTC"), rep.Took.Round(time.Second))
	w("- Machine: %s, %d cores, %s; the load generator, the XMPP server and the component share it", env.CPU, env.Cores, env.Kernel)
	for _, server := range cfg.Servers {
		switch server {
		case Prosody:
			w("- Prosody: %s (`prosodyctl about`), started per run by internal/testenv/prosody: storage `internal`, log level warn, "+
				"MUC host with `mod_muc` (MUC) or `mod_muc` and `mod_muc_mam` archiving every room (MUC+MAM); "+
				"the project's XEP-0033 multicast service (contrib/prosody, `mod_groupchat_multicast`) taking %d addresses per stanza from the component%s", env.Prosody, multicastLimit, extraText(cfg.ProsodyConfig))
		case Ejabberd:
			w("- ejabberd: %s (Debian's package), started per run by internal/testenv/ejabberd: Mnesia storage, log level warning, "+
				"MUC host with `mod_muc` (MUC) or `mod_muc` and `mod_mam` archiving every room (MUC+MAM: `default: always`, rooms created with `mam: true`); "+
				"`mod_multicast` (XEP-0033) taking %d addresses per stanza from the component", env.Ejabberd, multicastLimit)
		}
	}
	w("- Go: %s", env.Go)
	w("- Component: `groupchat serve` built with `go build`, `--sync full` (the default), `--data` in a fresh temporary directory per run, "+
		"`--http` on a loopback port for its /metrics; "+
		"GROUPCHAT_MESSAGE_RATE=%d and GROUPCHAT_MESSAGE_BURST=%d, raised from the defaults (20/s, burst 100) so that the per-sender rate limit does not interfere. "+
		"groupchat: `--multicast` (the default), a broadcast goes to the server's XEP-0033 multicast service as one stanza per batch of recipients where the server offers one; "+
		"groupchat-direct: `--multicast=false`, one stanza per recipient",
		cfg.MessageRate, cfg.MessageBurst)
	w("- Live load: %s, %s, at most %s per group; drain timeout %s", postingText(&cfg), windowText(cfg.Window), sendersText(cfg.Senders), cfg.Drain)
	w("- Rounds: %d; in each, every system runs every scenario on a fresh server (and component), the systems taking turns and each round starting with the next system", cfg.Rounds)
	w("- Catch-up storm: %d readers in one group (or room) with a poster; %d messages posted while the readers are offline, then all readers reconnect at once. "+
		"groupchat: directed presence, then one paged `#catchup` from the position the reader had (RSM max %d, paging with `<after/>`). "+
		"MUC+MAM: join the room without history, then XEP-0313 queries of the room archive paging back from the last page (RSM max %d; the server may send shorter pages, Prosody's hold at most 100) until the last %d messages",
		ScenarioStorm.Members, cfg.StormMessages, cfg.StormPage, cfg.StormPage, cfg.StormMessages)
	w("")

	w("| server | scenario | system | rounds | delivered/s | p50 | p95 | p99 | max | lost | duplicated | CPU s server | CPU s component | link bytes/message | delivered/s ÷ MUC+MAM | p99 ÷ MUC+MAM |")
	w("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, server := range cfg.Servers {
		for _, sc := range cfg.Scenarios {
			for _, sys := range cfg.Systems {
				sum := rep.Summarize(server, sc, sys)
				row := []string{server.String(), sc.Title(), sys.String(), roundsText(sum)}
				switch {
				case sum.Skipped != "":
					row = append(row, "skipped", "", "", "", "", "", "", "", "", "", "", "")
				case sum.Ran == 0:
					row = append(row, "failed", "", "", "", "", "", "", "", "", "", "", "")
				default:
					row = append(row,
						strconv.Itoa(int(sum.PerSecond+0.5)),
						latencyText(sum.P50), latencyText(sum.P95), latencyText(sum.P99), latencyText(sum.Max),
						strconv.FormatInt(sum.Lost, 10), strconv.FormatInt(sum.Duplicated, 10),
						cpuText(sum.CPUServer), "—", bytesText(sum.LinkBytesPerMessage), "—", "—")
					if sys.component() {
						row[12] = cpuText(sum.CPUComponent)
						row[14] = ratioRangeText(rep.RatioTo(server, sc, sys, MUCMAM, func(r *Result) float64 { return r.PerSecond() }))
						row[15] = ratioRangeText(rep.RatioTo(server, sc, sys, MUCMAM, func(r *Result) float64 { return r.Latency.P99.Seconds() }))
					}
				}
				w("| %s |", strings.Join(row, " | "))
			}
		}
	}
	w("")
	w("How to read it:")
	w("")
	w("- **delivered/s**: live, messages received per second over all receivers, from the first post to the last delivery; " +
		"every member of the group gets each message, the sender's own reflection included. Storm: messages fetched per second over all readers, " +
		"from the start of the reconnection until the last reader has them all.")
	w("- **p50 … max**: live, from posting to each receipt (the send time travels in the body; one clock). Storm: per reader, " +
		"from the start of the reconnection to having every message (login, presence or join, all pages).")
	w("- **lost**: expected deliveries not received within the drain timeout after the end; **duplicated**: deliveries beyond the first. Both must be 0.")
	w("- **CPU s**: user and system CPU seconds of the process during the measurement (`/proc/PID/stat`, utime+stime): " +
		"the server is Prosody's process or ejabberd's Erlang VM (beam.smp). The component's column is empty for MUC, which runs inside the server.")
	w("- Prosody runs its event loop on one core: when its CPU seconds come close to the run's measured time (next table), Prosody is the bottleneck. " +
		"ejabberd's VM runs a scheduler per core.")
	w("- **link bytes/message**: live, the bytes the component wrote to the server over its XEP-0114 link during the measurement " +
		"(`groupchat_link_bytes_written_total` on its /metrics) over the messages posted: with multicast one stanza per batch of recipients, without it one per recipient.")
	w("- **load average before**: other work on the machine at the start of each run; on a shared 2-core machine, " +
		"figures move by tens of percent between runs, so compare systems within one report.")
	w("- **rounds**: every system ran each scenario that many times, taking turns (each round starts with the next system); every figure is the median over the rounds, lost and duplicated are totals.")
	w("- **÷ MUC+MAM**: a groupchat system's figure over MUC+MAM's behind the same server in the same round (they ran one after the other), median over the rounds with the lowest and highest in parentheses; above 1 is better for delivered/s, below 1 is better for p99.")
	w("")
	w("Each run:")
	w("")
	w("| server | scenario | system | round | delivered/s | p99 | clients | posting clients | messages | deliveries expected | measured for | server CPU per delivery | link bytes/message | CPU s load generator | load average before | fsync before (median/max) | notes |")
	w("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for i := range rep.Results {
		r := &rep.Results[i]
		notes := append([]string(nil), r.Notes...)
		if r.Skipped != "" {
			notes = append(notes, "skipped: "+r.Skipped)
		}
		if r.Err != "" {
			notes = append(notes, "error: "+r.Err)
		}
		if r.Errors > 0 {
			notes = append(notes, fmt.Sprintf("%d error answers to posts", r.Errors))
		}
		if r.Stalled > 0 {
			notes = append(notes, fmt.Sprintf("%d senders stalled on a missing reflection", r.Stalled))
		}
		if r.Skipped != "" {
			w("| %s | %s | %s | %d | | | | | | | | | | | | | %s |", r.Server, r.Scenario.Title(), r.System, r.Round, mdEscape(strings.Join(notes, "; ")))
			continue
		}
		posting := strconv.Itoa(r.Senders)
		if r.Scenario.Kind == Storm {
			posting = "1"
		}
		fsync := ""
		if r.Fsync[1] > 0 {
			fsync = latencyText(r.Fsync[0]) + " / " + latencyText(r.Fsync[1])
		}
		perDelivery := ""
		if r.Delivered > 0 {
			perDelivery = fmt.Sprintf("%.0f µs", float64(r.CPUServer.Microseconds())/float64(r.Delivered))
		}
		rate, p99 := "", ""
		if r.Ran() {
			rate, p99 = strconv.Itoa(int(r.PerSecond()+0.5)), latencyText(r.Latency.P99)
		}
		w("| %s | %s | %s | %d | %s | %s | %d | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s |", r.Server, r.Scenario.Title(), r.System, r.Round, rate, p99, r.Clients, posting, r.Sent, r.Expected,
			r.Elapsed.Round(time.Millisecond), perDelivery, bytesText(r.LinkBytesPerMessage()), cpuText(r.CPULoad), r.LoadAverage, fsync, mdEscape(strings.Join(notes, "; ")))
	}
	return b.String()
}

// serversText names the servers whose MUC a report compares with:
// "Prosody's", "ejabberd's", "Prosody's and ejabberd's".
func serversText(servers []Server) string {
	var names []string
	for _, s := range servers {
		names = append(names, s.String()+"'s")
	}
	return strings.Join(names, " and ")
}

// bytesText renders a bytes-per-message figure, "—" for none.
func bytesText(v float64) string {
	if v <= 0 {
		return "—"
	}
	return strconv.Itoa(int(v + 0.5))
}

func roundsText(s Summary) string {
	if s.Failed > 0 {
		return fmt.Sprintf("%d (+%d failed)", s.Ran, s.Failed)
	}
	return strconv.Itoa(s.Ran)
}

func ratioRangeText(r Ratio) string {
	switch r.N {
	case 0:
		return "—"
	case 1:
		return fmt.Sprintf("%.2f", r.Median)
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", r.Median, r.Min, r.Max)
}

func postingText(cfg *Config) string {
	var how string
	if cfg.Messages > 0 {
		how = fmt.Sprintf("%d messages per scenario", cfg.Messages)
	} else {
		how = "posting for " + cfg.Duration.String()
	}
	if cfg.Rate > 0 {
		return how + fmt.Sprintf(" at a target of %g messages/s per scenario", cfg.Rate)
	}
	return how + " as fast as the window allows (rate 0)"
}

func windowText(w int) string {
	if w == 1 {
		return "window 1 (a sender posts its next message once its previous one is reflected back to it)"
	}
	return fmt.Sprintf("window %d (at most %d of a sender's messages not yet reflected back to it)", w, w)
}

func sendersText(n int) string {
	if n == 0 {
		return "every member posting"
	}
	if n == 1 {
		return "1 member posting"
	}
	return fmt.Sprintf("%d members posting", n)
}

func latencyText(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case ms >= 100:
		return fmt.Sprintf("%.0f ms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f ms", ms)
	default:
		return fmt.Sprintf("%.2f ms", ms)
	}
}

func cpuText(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

func ratioText(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func extraText(lua string) string {
	if lua == "" {
		return ""
	}
	return "; added to its configuration: `" + lua + "`"
}
