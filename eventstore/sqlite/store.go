package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/uuchat/groupchat/eventstore"
)

// Options tune a Store. The zero value is the durable default.
type Options struct {
	// Synchronous is SQLite's synchronous level for the writer connection.
	//
	// "full" (the default, also chosen by "") syncs the write-ahead log on
	// every commit, so an acknowledged append survives both a process crash
	// (kill -9) and a power loss or kernel crash.
	//
	// "normal" skips that sync and syncs only at checkpoints. An
	// acknowledged append still survives a process crash, because the data
	// is already in the operating system's cache, but the newest appends can
	// be lost on power loss. The database itself is never corrupted in
	// either mode.
	Synchronous string

	// MaxBatchEvents caps how many events one group-commit transaction
	// gathers, so a long queue is committed in steps instead of making every
	// caller wait for one huge transaction. The writer stops adding requests
	// once the batch reaches the cap; a single request is never split.
	// Default 4096.
	MaxBatchEvents int

	// ReadConns is the size of the read-only connection pool used by
	// ReadStream, ReadAll and subscriptions. Default 4.
	ReadConns int

	// StreamCacheSize bounds how many stream heads the writer keeps in
	// memory; older entries are dropped and reloaded on demand. Default
	// 100000.
	StreamCacheSize int

	// SubscriptionPage is the most events one Subscription.Recv returns, so
	// a subscriber far behind catches up in bounded steps. Default 1000.
	SubscriptionPage int

	// CacheSizeKiB is SQLite's page cache per connection, in KiB. The writer
	// benefits from keeping the index pages it updates in memory. Default
	// 65536 (64 MiB) for the writer; readers use a quarter of it.
	CacheSizeKiB int

	// MmapBytes is how much of the file each read connection maps into
	// memory (SQLite's mmap_size), for reads without a copy per page; -1
	// maps none. The pages a read touched stay mapped and count in the
	// process's resident memory until the kernel drops them. Default
	// 1 GiB.
	MmapBytes int64
}

func (o Options) withDefaults() (Options, error) {
	switch strings.ToLower(o.Synchronous) {
	case "", "full":
		o.Synchronous = "FULL"
	case "normal":
		o.Synchronous = "NORMAL"
	default:
		return o, fmt.Errorf("eventstore/sqlite: Synchronous must be \"full\" or \"normal\", not %q", o.Synchronous)
	}
	if o.MaxBatchEvents <= 0 {
		o.MaxBatchEvents = 4096
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	if o.StreamCacheSize <= 0 {
		o.StreamCacheSize = 100000
	}
	if o.SubscriptionPage <= 0 {
		o.SubscriptionPage = 1000
	}
	if o.MmapBytes == 0 {
		o.MmapBytes = 1 << 30
	}
	if o.MmapBytes < 0 {
		o.MmapBytes = 0
	}
	if o.CacheSizeKiB <= 0 {
		o.CacheSizeKiB = 65536
	}
	return o, nil
}

// Store is the SQLite event store. It implements eventstore.Store.
type Store struct {
	opts Options

	// gate orders calls against Close: every call holds it shared while it
	// uses the store, Close takes it exclusively once closed is set, so no
	// call is mid-flight when the connections go away.
	gate   sync.RWMutex
	closed atomic.Bool
	// closing is closed when Close starts, to wake blocked subscriptions.
	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error

	reqs       chan *request
	w          *writer
	writerDone chan struct{}

	rd       *readers
	reqsPool sync.Pool

	notify notifier
}

var _ eventstore.Store = (*Store)(nil)

const schemaVersion = 1

const schema = `
CREATE TABLE IF NOT EXISTS events (
	position INTEGER PRIMARY KEY,
	stream   TEXT    NOT NULL,
	version  INTEGER NOT NULL,
	id       TEXT    NOT NULL,
	type     TEXT    NOT NULL,
	data     BLOB,
	metadata BLOB,
	recorded INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_stream_version ON events (stream, version);
CREATE UNIQUE INDEX IF NOT EXISTS events_id ON events (id);
`

// Open opens or creates the event store in the SQLite file at path. The
// file, and its -wal and -shm companions, must not be used by anything else
// while the Store is open.
func Open(path string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("eventstore/sqlite: %q is not a plain file path", path)
	}

	wdsn := fmt.Sprintf("%s?_journal_mode=WAL&_synchronous=%s&_busy_timeout=5000&_mutex=no&_cache_size=-%d",
		path, opts.Synchronous, opts.CacheSizeKiB)
	w, err := openWriter(wdsn, opts)
	if err != nil {
		return nil, err
	}

	rdsn := fmt.Sprintf("%s?_busy_timeout=5000&_query_only=true&_cache_size=-%d",
		path, max(opts.CacheSizeKiB/4, 2000))
	rd, err := openReaders(rdsn, opts.ReadConns, opts.MmapBytes)
	if err != nil {
		w.close()
		return nil, err
	}

	s := &Store{
		opts:       opts,
		closing:    make(chan struct{}),
		reqs:       make(chan *request, 1024),
		w:          w,
		writerDone: make(chan struct{}),
		rd:         rd,
	}
	s.reqsPool.New = func() any { return &request{done: make(chan struct{}, 1)} }
	s.notify.init(w.nextPos - 1)
	go func() {
		defer close(s.writerDone)
		w.run(s.reqs, &s.notify)
	}()
	return s, nil
}

// enter admits a call unless the store is closed; leave must follow.
func (s *Store) enter() error {
	s.gate.RLock()
	if s.closed.Load() {
		s.gate.RUnlock()
		return eventstore.ErrClosed
	}
	return nil
}

func (s *Store) leave() { s.gate.RUnlock() }

// Close finishes the appends already queued, stops the writer and closes the
// database. Later calls, and subscriptions, fail with eventstore.ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.closing)
		// Wait for calls already admitted (appends still queueing, reads);
		// after that nobody can send, so the queue can be closed and the
		// writer drains what is left in it.
		s.gate.Lock()
		close(s.reqs)
		s.gate.Unlock()
		<-s.writerDone
		errs := []error{s.rd.close()}
		// The writer closes last: the last connection checkpoints the log.
		errs = append(errs, s.w.close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Append implements eventstore.Store. It returns after the transaction that
// carries the events has committed (and, with synchronous "full", is synced
// to disk). If ctx ends while the request is queued or committing, Append
// returns ctx's error and the events may or may not have been stored;
// retrying with the same event IDs is safe.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := validate(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	r := s.reqsPool.Get().(*request)
	r.ctx, r.stream, r.expected, r.events = ctx, stream, expected, events

	if err := s.enter(); err != nil {
		r.reset()
		s.reqsPool.Put(r)
		return eventstore.AppendResult{}, err
	}
	select {
	case s.reqs <- r:
		s.leave()
	case <-ctx.Done():
		s.leave()
		r.reset()
		s.reqsPool.Put(r)
		return eventstore.AppendResult{}, ctx.Err()
	}
	select {
	case <-r.done:
		res, err := r.res, r.err
		r.reset()
		s.reqsPool.Put(r)
		return res, err
	case <-ctx.Done():
		// The writer still owns r and will answer into its buffered channel;
		// r is simply not reused.
		return eventstore.AppendResult{}, ctx.Err()
	}
}

// validate refuses what can never be stored before it reaches the writer.
func validate(stream string, events []eventstore.EventData) error {
	if stream == "" {
		return errors.New("eventstore/sqlite: empty stream name")
	}
	if len(events) == 0 {
		return errors.New("eventstore/sqlite: append needs at least one event")
	}
	for i, e := range events {
		if e.ID == "" {
			return fmt.Errorf("eventstore/sqlite: event %d has no ID", i)
		}
	}
	if len(events) <= 16 {
		for i := 1; i < len(events); i++ {
			for j := 0; j < i; j++ {
				if events[i].ID == events[j].ID {
					return fmt.Errorf("%w: id %q appears twice in one batch", eventstore.ErrIDConflict, events[i].ID)
				}
			}
		}
		return nil
	}
	seen := make(map[string]struct{}, len(events))
	for _, e := range events {
		if _, dup := seen[e.ID]; dup {
			return fmt.Errorf("%w: id %q appears twice in one batch", eventstore.ErrIDConflict, e.ID)
		}
		seen[e.ID] = struct{}{}
	}
	return nil
}

// ReadStream implements eventstore.Store. A limit of zero or less reads
// nothing.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	if limit <= 0 || from > math.MaxInt64 {
		return nil, nil
	}
	r, err := s.rd.get(ctx)
	if err != nil {
		return nil, err
	}
	defer s.rd.put(r)
	return r.readStream(ctx, stream, int64(from), limit)
}

// Streams implements eventstore.StreamLister: the names come from the
// index of streams, whose range for the prefix is all that is read.
func (s *Store) Streams(ctx context.Context, prefix, after string, limit int) ([]string, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	if limit <= 0 {
		return nil, nil
	}
	r, err := s.rd.get(ctx)
	if err != nil {
		return nil, err
	}
	defer s.rd.put(r)
	return r.streams(ctx, prefix, after, limit)
}

// ReadAll implements eventstore.Store. A limit of zero or less reads nothing.
func (s *Store) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	return s.readAllLocked(ctx, after, limit)
}

func (s *Store) readAllLocked(ctx context.Context, after uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if limit <= 0 || after >= math.MaxInt64 {
		return nil, nil
	}
	r, err := s.rd.get(ctx)
	if err != nil {
		return nil, err
	}
	defer s.rd.put(r)
	return r.readLog(ctx, int64(after), limit)
}

func readErr(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("eventstore/sqlite: read: %w", err)
}

// CompactPositions reports that positions are row ids, one per event,
// with gaps only where a failed batch gave some back: a range of N
// positions holds about N events, so readers may split the log by position
// (package replay does).
func (s *Store) CompactPositions() bool { return true }

// LastPosition implements eventstore.Store. It answers from memory: the
// writer publishes the newest position after every commit.
func (s *Store) LastPosition(ctx context.Context) (uint64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.leave()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	last, _ := s.notify.watch()
	return last, nil
}

// notifier tells subscriptions that the log grew. Each commit closes the
// current channel and installs a fresh one, so any number of waiters wake
// without the writer ever blocking on a slow subscriber.
type notifier struct {
	mu   sync.Mutex
	last uint64
	ch   chan struct{}
}

func (n *notifier) init(last uint64) {
	n.last = last
	n.ch = make(chan struct{})
}

func (n *notifier) publish(last uint64) {
	n.mu.Lock()
	n.last = last
	close(n.ch)
	n.ch = make(chan struct{})
	n.mu.Unlock()
}

// watch returns the newest committed position and a channel closed by the
// next commit. Taken together under one lock, they leave no moment in which
// a commit could go unnoticed.
func (n *notifier) watch() (uint64, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.last, n.ch
}
