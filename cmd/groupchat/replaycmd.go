package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/uuchat/groupchat/replay"
)

// replayCommand rebuilds the projections from the log, or verifies them.
type replayCommand struct{ out io.Writer }

func (r *replayCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	data := fs.String("data", "./data", "the service's data directory")
	storeSpec := fs.String("store", "", storeUsage)
	verify := fs.Bool("verify", false, "rebuild alongside the live projections and report every difference, changing nothing (the service may run)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: groupchat replay [--verify] [flags]\n\nRebuilds every projection from the event log into a fresh database and swaps it in\n(stop the service first), or with --verify compares a rebuild with the live projections.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	out := r.out
	if out == nil {
		out = os.Stdout
	}
	store, err := openStore(ctx, *storeSpec, *data, "", true, slog.Default())
	if err != nil {
		return err
	}
	defer store.Close()
	live := filepath.Join(*data, "projections.db")

	if *verify {
		diffs, err := replay.Verify(ctx, store, live)
		if err != nil {
			return err
		}
		if len(diffs) == 0 {
			fmt.Fprintln(out, "verify: the live projections equal a rebuild from the log")
			return nil
		}
		for _, d := range diffs {
			fmt.Fprintln(out, d)
		}
		return fmt.Errorf("verify: %d difference(s) between the live projections and a rebuild", len(diffs))
	}

	release, err := lockData(*data)
	if err != nil {
		return err
	}
	defer release()
	rebuilt := live + ".new"
	os.Remove(rebuilt)
	bar := newProgressBar(os.Stderr)
	stats, err := replay.Rebuild(ctx, store, rebuilt, bar.update)
	bar.done()
	if err != nil {
		return err
	}
	if err := replay.Swap(live, rebuilt); err != nil {
		return err
	}
	took := stats.Fold + stats.Write
	fmt.Fprintf(out, "replay: rebuilt %d events (%d groups, %d messages) in %s, %.0f events/s; projections swapped in at position %d\n",
		stats.Events, stats.Groups, stats.Messages, took.Round(time.Millisecond), float64(stats.Events)/took.Seconds(), stats.Position)
	return nil
}

// progressBar draws the rebuild's progress and rate on a terminal line.
type progressBar struct {
	w       io.Writer
	started time.Time
	last    time.Time
	drawn   bool
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, started: time.Now()}
}

func (p *progressBar) update(done, total uint64) {
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last = now
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	const width = 30
	filled := int(frac * width)
	rate := float64(done) / now.Sub(p.started).Seconds()
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  position %d of %d  %.0f events/s ",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), frac*100, done, total, rate)
	p.drawn = true
}

func (p *progressBar) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
