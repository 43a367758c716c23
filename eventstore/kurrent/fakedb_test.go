package kurrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
)

// fakeDB is a stand-in for a KurrentDB node behind the real client: an
// in-memory Streams gRPC service. It follows the server's rules as read in
// KurrentDB's source (IndexWriter.CheckCommit for expected revisions and
// idempotency, one commit position per event, inclusive forward reads,
// exclusive subscriptions, InvalidArgument for a read from a position that
// is not a record), except that its cache of committed ids is unbounded.
// It proves how this package drives the client, not how the server behaves.
type fakeDB struct {
	api.UnimplementedStreamsServer

	mu       sync.Mutex
	log      []*fakeEvent
	byStream map[string][]*fakeEvent
	byID     map[uuid.UUID]*fakeEvent
	next     uint64        // where the next record starts
	grew     chan struct{} // closed and replaced when the log grows

	// Fault injection, consumed one per subscription request: an error
	// returned before the confirmation, then a count of events after which
	// the subscription drops with Unavailable (-1: never).
	openErrs []error
	drops    []int
	// froms records where each subscription request started.
	froms  []string
	writes int // appends that wrote events
}

type fakeEvent struct {
	pos     uint64
	stream  string
	number  uint64
	id      uuid.UUID
	typ     string
	ctype   string
	data    []byte
	meta    []byte
	created time.Time
}

func newFakeDB() *fakeDB {
	db := &fakeDB{
		byStream: map[string][]*fakeEvent{},
		byID:     map[uuid.UUID]*fakeEvent{},
		next:     4096, // the log starts with records that are not events
		grew:     make(chan struct{}),
	}
	// A fresh server has system events in $all already.
	db.add("$settings", "$settings", `{}`)
	db.add("$users", "$User", `{"loginName":"admin"}`)
	return db
}

// add writes one event outside the Streams API, as other writers or the
// server itself would; it returns its position.
func (db *fakeDB) add(stream, typ, data string) uint64 {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.write(stream, []fakeProposal{{id: uuid.New(), typ: typ, ctype: "application/json", data: []byte(data)}})
	return db.log[len(db.log)-1].pos
}

type fakeProposal struct {
	id         uuid.UUID
	typ, ctype string
	data, meta []byte
}

func (db *fakeDB) write(stream string, ps []fakeProposal) *fakeEvent {
	var e *fakeEvent
	for _, p := range ps {
		e = &fakeEvent{pos: db.next, stream: stream, number: uint64(len(db.byStream[stream])), id: p.id,
			typ: p.typ, ctype: p.ctype, data: p.data, meta: p.meta, created: time.Now().UTC().Truncate(100 * time.Nanosecond)}
		// Records have a size, so positions are sparse, as on a server.
		db.next += uint64(64 + len(stream) + len(p.typ) + len(p.data) + len(p.meta))
		db.log = append(db.log, e)
		db.byStream[stream] = append(db.byStream[stream], e)
		db.byID[p.id] = e
	}
	close(db.grew)
	db.grew = make(chan struct{})
	return e
}

// expectations as the server's ExpectedVersion constants.
const (
	fakeAny          = -2
	fakeNoStream     = -1
	fakeStreamExists = -4
)

func (db *fakeDB) Append(srv api.Streams_AppendServer) error {
	req, err := srv.Recv()
	if err != nil {
		return err
	}
	opts := req.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "options first")
	}
	stream := string(opts.GetStreamIdentifier().GetStreamName())
	var expected int64
	switch r := opts.ExpectedStreamRevision.(type) {
	case *api.AppendReq_Options_Any:
		expected = fakeAny
	case *api.AppendReq_Options_NoStream:
		expected = fakeNoStream
	case *api.AppendReq_Options_StreamExists:
		expected = fakeStreamExists
	case *api.AppendReq_Options_Revision:
		expected = int64(r.Revision)
	}
	var ps []fakeProposal
	for {
		req, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		pm := req.GetProposedMessage()
		s := pm.GetId().GetStructured()
		id, err := esdb.ParseUUIDFromInt64(s.GetMostSignificantBits(), s.GetLeastSignificantBits())
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		ps = append(ps, fakeProposal{id: id, typ: pm.GetMetadata()["type"], ctype: pm.GetMetadata()["content-type"],
			data: pm.GetData(), meta: pm.GetCustomMetadata()})
	}

	db.mu.Lock()
	defer db.mu.Unlock()
	events := db.byStream[stream]
	cur := int64(len(events)) - 1
	wrong := func() error {
		w := &api.AppendResp_WrongExpectedVersion{}
		if cur < 0 {
			w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		} else {
			w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(cur)}
		}
		switch expected {
		case fakeAny:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		case fakeNoStream:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		case fakeStreamExists:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		default:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: uint64(expected)}
		}
		return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}})
	}
	success := func(e *fakeEvent) error {
		return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
			CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: e.number},
			PositionOption:        &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{CommitPosition: e.pos, PreparePosition: e.pos}},
		}}})
	}

	if expected == fakeStreamExists && cur < 0 {
		return wrong()
	}
	if expected == fakeAny || expected == fakeStreamExists {
		// Idempotency through the cache of committed ids: the first id
		// decides, the others must follow it in the same stream.
		var last *fakeEvent
		for i, p := range ps {
			e := db.byID[p.id]
			if e == nil || e.stream != stream {
				if i == 0 {
					last = nil
					break
				}
				return wrong() // partly stored: "corrupted idempotency"
			}
			last = e
		}
		if last != nil {
			return success(last)
		}
	} else if expected < cur {
		// Idempotent if the events right after the expected revision are
		// this batch.
		for i, p := range ps {
			n := expected + 1 + int64(i)
			if n > cur || events[n].id != p.id {
				return wrong()
			}
		}
		return success(events[expected+int64(len(ps))])
	} else if expected > cur {
		return wrong()
	}
	db.writes++
	return success(db.write(stream, ps))
}

func (db *fakeDB) Read(req *api.ReadReq, srv api.Streams_ReadServer) error {
	opts := req.GetOptions()
	if opts.GetSubscription() != nil {
		return db.subscribe(opts, srv)
	}
	count := int(opts.GetCount())
	backwards := opts.GetReadDirection() == api.ReadReq_Options_Backwards
	var out []*fakeEvent
	if so := opts.GetStream(); so != nil {
		name := so.GetStreamIdentifier().GetStreamName()
		db.mu.Lock()
		events := append([]*fakeEvent(nil), db.byStream[string(name)]...)
		db.mu.Unlock()
		if len(events) == 0 {
			return srv.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
				StreamIdentifier: &shared.StreamIdentifier{StreamName: name}}}})
		}
		from := int64(so.GetRevision())
		switch {
		case so.GetStart() != nil:
			from = 0
		case so.GetEnd() != nil:
			from = int64(len(events)) - 1
			if !backwards {
				from = int64(len(events))
			}
		}
		if backwards {
			for i := min(from, int64(len(events))-1); i >= 0 && len(out) < count; i-- {
				out = append(out, events[i])
			}
		} else {
			for i := from; i < int64(len(events)) && len(out) < count; i++ {
				out = append(out, events[i])
			}
		}
	} else {
		ao := opts.GetAll()
		db.mu.Lock()
		log, next := append([]*fakeEvent(nil), db.log...), db.next
		db.mu.Unlock()
		// i is the index of the first event at or after the position.
		var i int
		switch {
		case ao.GetStart() != nil:
			i = 0
		case ao.GetEnd() != nil:
			i = len(log)
		default:
			var ok bool
			if i, ok = fakeIndex(log, next, ao.GetPosition().GetCommitPosition()); !ok {
				return status.Error(codes.InvalidArgument, "Trying to read from an invalid position.")
			}
		}
		if backwards {
			for j := i - 1; j >= 0 && len(out) < count; j-- {
				out = append(out, log[j])
			}
		} else {
			for j := i; j < len(log) && len(out) < count; j++ {
				out = append(out, log[j])
			}
		}
	}
	for _, e := range out {
		if err := srv.Send(e.proto()); err != nil {
			return err
		}
	}
	return nil
}

// fakeIndex finds the event at pos, or the end of the log; any other
// position is inside a record.
func fakeIndex(log []*fakeEvent, next, pos uint64) (int, bool) {
	if pos == next {
		return len(log), true
	}
	for i, e := range log {
		if e.pos == pos {
			return i, true
		}
	}
	return 0, false
}

func (db *fakeDB) subscribe(opts *api.ReadReq_Options, srv api.Streams_ReadServer) error {
	ao := opts.GetAll()
	prefixes := opts.GetFilter().GetStreamIdentifier().GetPrefix()
	db.mu.Lock()
	var openErr error
	if len(db.openErrs) > 0 {
		openErr, db.openErrs = db.openErrs[0], db.openErrs[1:]
	}
	drop := -1
	if len(db.drops) > 0 && openErr == nil {
		drop, db.drops = db.drops[0], db.drops[1:]
	}
	var after uint64 // deliver positions above it
	valid := true
	switch {
	case ao.GetStart() != nil:
		db.froms = append(db.froms, "start")
	case ao.GetEnd() != nil:
		db.froms = append(db.froms, "end")
		after = db.next - 1
	default:
		after = ao.GetPosition().GetCommitPosition()
		db.froms = append(db.froms, strconv.FormatUint(after, 10))
		_, valid = fakeIndex(db.log, db.next, after)
	}
	db.mu.Unlock()
	if openErr != nil {
		return openErr
	}
	if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{SubscriptionId: "fake"}}}); err != nil {
		return err
	}
	if !valid {
		return status.Error(codes.InvalidArgument, "Trying to read from an invalid position.")
	}
	sent, caughtUp := 0, false
	for {
		db.mu.Lock()
		var batch []*fakeEvent
		for _, e := range db.log {
			if e.pos > after {
				batch = append(batch, e)
			}
		}
		grew := db.grew
		db.mu.Unlock()
		for _, e := range batch {
			after = e.pos
			if !fakeMatches(e.stream, prefixes) {
				continue
			}
			if sent == drop {
				return status.Error(codes.Unavailable, "fake: node went away")
			}
			if err := srv.Send(e.proto()); err != nil {
				return err
			}
			sent++
		}
		if sent == drop {
			return status.Error(codes.Unavailable, "fake: node went away")
		}
		if !caughtUp {
			caughtUp = true
			if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-grew:
		case <-srv.Context().Done():
			return srv.Context().Err()
		}
	}
}

func fakeMatches(stream string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(stream, p) {
			return true
		}
	}
	return false
}

func (e *fakeEvent) proto() *api.ReadResp {
	most, least := esdb.UUIDAsInt64(e.id)
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id: &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
				MostSignificantBits: most, LeastSignificantBits: least}}},
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(e.stream)},
			StreamRevision:   e.number,
			PreparePosition:  e.pos,
			CommitPosition:   e.pos,
			Metadata: map[string]string{
				"type":         e.typ,
				"content-type": e.ctype,
				// .NET ticks (100 ns) since the Unix epoch
				"created": strconv.FormatInt(e.created.UnixNano()/100, 10),
			},
			CustomMetadata: e.meta,
			Data:           e.data,
		},
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: e.pos},
	}}}
}

// events returns the events of the log, in order.
func (db *fakeDB) events() []*fakeEvent {
	db.mu.Lock()
	defer db.mu.Unlock()
	return append([]*fakeEvent(nil), db.log...)
}

// fakeServer serves a fakeDB on a loopback port that survives restarts.
type fakeServer struct {
	t    *testing.T
	db   *fakeDB
	addr string
	mu   sync.Mutex
	srv  *grpc.Server
}

func startFake(t *testing.T, db *fakeDB) *fakeServer {
	t.Helper()
	fs := &fakeServer{t: t, db: db}
	fs.start("127.0.0.1:0")
	t.Cleanup(fs.stop)
	return fs
}

func (fs *fakeServer) start(addr string) {
	fs.t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		fs.t.Fatalf("listen: %v", err)
	}
	srv := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}))
	api.RegisterStreamsServer(srv, fs.db)
	fs.mu.Lock()
	fs.srv, fs.addr = srv, lis.Addr().String()
	fs.mu.Unlock()
	go srv.Serve(lis)
}

func (fs *fakeServer) stop() {
	fs.mu.Lock()
	srv := fs.srv
	fs.srv = nil
	fs.mu.Unlock()
	if srv != nil {
		srv.Stop()
	}
}

func (fs *fakeServer) restart() {
	fs.stop()
	fs.start(fs.addr)
}

// url points a client at the fake; discovery gives up quickly.
func (fs *fakeServer) url() string {
	return "kurrentdb://" + fs.addr + "?tls=false&maxDiscoverAttempts=1&discoveryInterval=10&gossipTimeout=1"
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openFake(t *testing.T, fs *fakeServer, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, fs.url(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clientFor is a bare client on the fake, to obtain the client's own
// error values.
func clientFor(t *testing.T, fs *fakeServer) *esdb.Client {
	t.Helper()
	cfg, err := parseURL(fs.url())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (e *fakeEvent) String() string {
	return fmt.Sprintf("%s@%d#%d(%s)", e.stream, e.pos, e.number, e.id)
}
