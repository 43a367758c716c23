package loadtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is the outcome of Run.
type Report struct {
	Config  Config
	Env     Environment
	Started time.Time
	Took    time.Duration
	Results []Result

	// Command is the command line that produced the report, for the
	// Markdown output; the caller fills it in.
	Command string
}

// Failed reports whether any run failed.
func (r *Report) Failed() bool {
	for _, res := range r.Results {
		if res.Err != "" {
			return true
		}
	}
	return false
}

// Run runs, on every server of cfg, every scenario of cfg on every system of
// cfg, Rounds times, each run on a fresh server (and a fresh component with
// an empty data directory), one after the other. A run that fails is recorded in its Result and the others
// still run; Run itself fails only if nothing can run (a bad configuration,
// a failed build) or ctx ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.logger()
	rep := &Report{Config: cfg, Started: time.Now()}
	work := cfg.WorkDir
	if work == "" {
		dir, err := os.MkdirTemp("", "groupchat-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	binary := cfg.Binary
	if binary == "" && needsComponent(cfg) {
		log.Info("building the component", "package", componentPackage)
		var err error
		if binary, err = Build(ctx, work); err != nil {
			return nil, err
		}
	}
	rep.Env = probeEnvironment(ctx, cfg.Servers)

	n := 0
	for _, server := range cfg.Servers {
		for _, sc := range cfg.Scenarios {
			for round := 1; round <= cfg.Rounds; round++ {
				for k := range cfg.Systems {
					if err := ctx.Err(); err != nil {
						return rep, err
					}
					sys := cfg.Systems[(k+round-1)%len(cfg.Systems)]
					n++
					dir := filepath.Join(work, fmt.Sprintf("%02d-%s-%s-%s", n, strings.ToLower(server.String()), sc.Name, slug(sys)))
					log.Info("running", "server", server.String(), "scenario", sc.Title(), "system", sys.String(), "round", round)
					res := runOne(ctx, &cfg, server, sc, sys, dir, binary)
					res.Server, res.Round = server, round
					rep.add(log, res)
					if cfg.WorkDir == "" {
						_ = os.RemoveAll(dir)
					}
				}
			}
		}
	}
	rep.Took = time.Since(rep.Started)
	return rep, ctx.Err()
}

// add records one run and logs its outcome.
func (rep *Report) add(log *slog.Logger, res Result) {
	srv, sc, sys := res.Server.String(), res.Scenario, res.System
	switch {
	case res.Skipped != "":
		log.Info("skipped", "server", srv, "scenario", sc.Name, "system", sys.String(), "why", res.Skipped)
	case res.Err != "":
		log.Error("run failed", "server", srv, "scenario", sc.Name, "system", sys.String(), "round", res.Round, "err", res.Err)
	default:
		log.Info("done", "server", srv, "scenario", sc.Name, "system", sys.String(), "round", res.Round,
			"delivered_per_s", int(res.PerSecond()), "p99", res.Latency.P99.Round(time.Microsecond),
			"lost", res.Lost, "duplicated", res.Duplicated,
			"cpu_server", res.CPUServer, "cpu_component", res.CPUComponent, "link_bytes_per_message", int(res.LinkBytesPerMessage()+0.5))
	}
	rep.Results = append(rep.Results, res)
}

func needsComponent(cfg Config) bool {
	for _, s := range cfg.Systems {
		if s.component() {
			return true
		}
	}
	return false
}

func slug(s System) string {
	return strings.NewReplacer("+", "-").Replace(strings.ToLower(s.String()))
}

// runOne starts a stack of server for sys, runs sc on it and stops it.
func runOne(ctx context.Context, cfg *Config, server Server, sc Scenario, sys System, dir, binary string) Result {
	if sc.Kind == Storm && sys == MUC {
		return Result{Scenario: sc, System: sys, Skipped: "mod_muc alone keeps no archive to query (only a short join history)"}
	}
	users := make([]string, sc.Clients())
	for i := range users {
		users[i] = userName(i)
	}
	flushDisk()
	load := loadAverage()
	fsyncMedian, fsyncMax, fsyncErr := probeFsync(dir)
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	st, err := startStack(startCtx, cfg, server, dir, binary, sys, users)
	cancel()
	if err != nil {
		return Result{Scenario: sc, System: sys, Err: "starting: " + err.Error(), LoadAverage: load}
	}
	defer st.stop(cfg.logger())
	var res Result
	if sc.Kind == Storm {
		res, err = runStorm(ctx, cfg, sys, sc, st)
	} else {
		res, err = runLive(ctx, cfg, sys, sc, st)
	}
	res.LoadAverage = load
	if fsyncErr == nil {
		res.Fsync = [2]time.Duration{fsyncMedian, fsyncMax}
	}
	if err != nil && res.Err == "" {
		res.Err = err.Error()
	}
	if res.Err != "" {
		cfg.logger().Warn("the end of the server's log", "server", server.String(), "scenario", sc.Name, "system", sys.String(), "log", st.srv.LogTail(20))
		if st.comp != nil {
			cfg.logger().Warn("the end of the component's log", "scenario", sc.Name, "log", st.comp.logTail())
		}
	}
	if res.CtrlDropped > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d setup stanzas did not fit the client's buffer", res.CtrlDropped))
	}
	return res
}
