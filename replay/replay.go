package replay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/projections"
)

// pageSize is how many events one ReadAll fetches. Pages are also the unit
// of work of the decoders: large enough that handing one over costs nothing
// next to decoding it.
const pageSize = 4096

// Stats describe a rebuild.
type Stats struct {
	// Events is the number of events folded; Position is the checkpoint of
	// the file written (the position of the last event).
	Events, Position uint64
	// Groups (deleted ones included) and Messages are the number of rows
	// of those tables.
	Groups, Messages int
	// Fold is the time spent reading, decoding and folding the log (and
	// meanwhile writing the messages and notices); Write the time spent
	// writing the rest and building the indexes.
	Fold, Write time.Duration
}

// Rebuild builds a fresh projection database file at path from the whole
// log: every event up to the store's last position when Rebuild starts.
// path must not exist; the file is written beside it under a temporary name
// and renamed into place when complete, so path never holds a partial file.
// progress, if not nil, is called from Rebuild's goroutine as the fold
// advances, with the position folded so far and the position it goes to
// (positions, not counts: they need not be dense).
func Rebuild(ctx context.Context, store eventstore.Store, path string, progress func(done, total uint64)) (Stats, error) {
	last, err := store.LastPosition(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("replay: %w", err)
	}
	return rebuild(ctx, store, path, last, progress)
}

// rebuildMemoryLimit is the Go runtime's soft memory limit while a
// rebuild runs, unless GOMEMLIMIT sets one: the fold keeps every group's
// members and read positions, a heap the collector would otherwise let
// grow to twice its live size. At this limit a rebuild of 10M events is as
// fast as without one (BENCHMARKS.md, "Rebuild memory").
const rebuildMemoryLimit = 300 << 20

// rebuild is Rebuild up to position upto.
func rebuild(ctx context.Context, store eventstore.Store, path string, upto uint64, progress func(done, total uint64)) (Stats, error) {
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(rebuildMemoryLimit))
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return Stats{}, fmt.Errorf("replay: %s exists; rebuild into a new file and Swap it in", path)
	}
	tmp := path + ".rebuilding"
	if err := removeDB(tmp); err != nil {
		return Stats{}, fmt.Errorf("replay: %w", err)
	}
	start := time.Now()
	b, err := projections.NewBuilder(ctx, tmp)
	if err != nil {
		return Stats{}, fmt.Errorf("replay: %w", err)
	}
	if err := fold(ctx, store, b, upto, progress); err != nil {
		b.Abort()
		return Stats{}, err
	}
	st := Stats{Events: b.Events(), Position: b.Position(), Groups: b.Groups(), Messages: b.Messages(), Fold: time.Since(start)}

	start = time.Now()
	if err := b.Finish(ctx); err != nil {
		return Stats{}, fmt.Errorf("replay: %w", err)
	}
	// The file was written without syncs; it must be on disk before a
	// rename makes it the one to trust.
	if err := syncFile(tmp); err != nil {
		removeDB(tmp)
		return Stats{}, fmt.Errorf("replay: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		removeDB(tmp)
		return Stats{}, fmt.Errorf("replay: %w", err)
	}
	if err := syncFile(filepath.Dir(path)); err != nil {
		return Stats{}, fmt.Errorf("replay: %w", err)
	}
	st.Write = time.Since(start)
	return st, nil
}

// compactPositions is implemented by stores whose positions grow by about
// one per event (SQLite's row ids). Their log can be cut into pages by
// position range, which several workers read at once. Other stores'
// positions may be far apart (KurrentDB's are byte offsets in its log): a
// range of pageSize positions would then hold almost nothing, so their log
// is read page after page, each from the last position of the one before.
type compactPositions interface{ CompactPositions() bool }

// page is the part of the log between two positions, on its way through
// the workers. done is closed once events and decoded (or err) are set.
type page struct {
	after, upto uint64
	// read is true when events were already read (by position, in order).
	read    bool
	events  []eventstore.RecordedEvent
	decoded []domain.Event
	err     error
	done    chan struct{}
}

// fold reads the log up to position upto into b. For a store with compact
// positions the log is cut into pages by position, (k*pageSize,
// (k+1)*pageSize], which needs no page to be read before the next can
// start: each worker (one per core) reads a page from the store and decodes
// it, and this goroutine adds the pages to b in log order. Reading and
// decoding are a large part of the work, and this way both run on every
// core; a gap in the positions only makes a page smaller. Other stores are
// read page after page by one goroutine, and the workers only decode.
func fold(ctx context.Context, store eventstore.Store, b *projections.Builder, upto uint64, progress func(done, total uint64)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(1, runtime.GOMAXPROCS(0))
	work := make(chan *page, 2*workers)
	ordered := make(chan *page, 2*workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs first: stop the goroutines, then wait for them

	compact := false
	if c, ok := store.(compactPositions); ok {
		compact = c.CompactPositions()
	}
	wg.Go(func() {
		defer close(work)
		defer close(ordered)
		next := func(after uint64) (*page, uint64) {
			p := &page{after: after, upto: min(after+pageSize, upto), done: make(chan struct{})}
			return p, p.upto
		}
		if !compact {
			next = func(after uint64) (*page, uint64) {
				p := &page{after: after, upto: upto, done: make(chan struct{})}
				p.readFrom(ctx, store)
				if p.err == nil {
					if len(p.events) == 0 {
						return p, upto // nothing left up to upto: this page ends the log
					}
					p.upto = p.events[len(p.events)-1].Position
				}
				return p, p.upto
			}
		}
		for after := uint64(0); after < upto; {
			var p *page
			p, after = next(after)
			if p.err != nil {
				after = upto // the page carries the error; nothing follows it
			}
			select {
			case work <- p:
			case <-ctx.Done():
				return
			}
			select {
			case ordered <- p:
			case <-ctx.Done():
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			for p := range work {
				if !p.read {
					p.readFrom(ctx, store)
				}
				p.decode()
				close(p.done)
			}
		})
	}

	for p := range ordered {
		select {
		case <-p.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if p.err != nil {
			return fmt.Errorf("replay: %w", p.err)
		}
		for i, ev := range p.events {
			if err := b.Add(ev, p.decoded[i]); err != nil {
				return fmt.Errorf("replay: %w", err)
			}
		}
		if progress != nil {
			progress(p.upto, upto)
		}
	}
	return ctx.Err()
}

// readFrom reads the events after p.after, up to p.upto and at most
// pageSize of them.
func (p *page) readFrom(ctx context.Context, store eventstore.Store) {
	p.read = true
	// Positions strictly increase, so at most upto-after events fit in the
	// range; any beyond it belong to the next page.
	events, err := store.ReadAll(ctx, p.after, int(min(p.upto-p.after, pageSize)))
	if err != nil {
		p.err = err
		return
	}
	for len(events) > 0 && events[len(events)-1].Position > p.upto {
		events = events[:len(events)-1]
	}
	p.events = events
}

// decode decodes the events read.
func (p *page) decode() {
	if p.err != nil {
		return
	}
	events := p.events
	p.decoded = make([]domain.Event, len(events))
	for i, ev := range events {
		if p.decoded[i], p.err = projections.Decode(ev); p.err != nil {
			return
		}
	}
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeDB removes a database file and its companions, if they exist.
func removeDB(path string) error {
	var errs []error
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
