package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/uuchat/groupchat/eventstore"
)

// Benchmarks use message-sized events: a ~200-byte payload, a UUID id and a
// short type, as a chat message would be stored.
const (
	benchPayload = 200
	benchGroups  = 1000
	benchType    = "message.posted"
)

func benchData() []byte {
	p := make([]byte, benchPayload)
	for i := range p {
		p[i] = 'a' + byte(i%26)
	}
	return p
}

// uuidString returns a time-ordered (version 7) UUID, the kind of id the
// service gives its events.
func uuidString() string {
	return uuid.Must(uuid.NewV7()).String()
}

func uuids(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuidString()
	}
	return ids
}

func openBench(b *testing.B, opts Options) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "events.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkAppendConcurrent: 1,000 groups append at once, each from its own
// goroutine with Exact expected versions, one message per Append. Every
// Append has committed when it returns (with sync=full, also fsynced).
// events/s is the throughput to compare with BenchmarkInsertCeiling;
// events/commit shows how many appends the group commit folded into one
// transaction.
func BenchmarkAppendConcurrent(b *testing.B) {
	for _, mode := range []string{"full", "normal"} {
		b.Run("sync="+mode, func(b *testing.B) {
			s := openBench(b, Options{Synchronous: mode})
			ids := uuids(b.N)
			data := benchData()
			ctx := context.Background()
			var (
				next atomic.Int64
				wg   sync.WaitGroup
			)
			b.ResetTimer()
			start := time.Now()
			for g := 0; g < benchGroups; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					stream := fmt.Sprintf("group-%04d", g)
					exp := eventstore.NoStream()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						res, err := s.Append(ctx, stream, exp, eventstore.EventData{ID: ids[i], Type: benchType, Data: data})
						if err != nil {
							b.Error(err)
							return
						}
						exp = eventstore.Exact(res.Version)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			if s.w.commits > 0 {
				b.ReportMetric(float64(s.w.committed)/float64(s.w.commits), "events/commit")
			}
		})
	}
}

// BenchmarkInsertCeiling: the baseline for Append. The same table, indexes,
// pragmas and row contents, inserted with a prepared INSERT in one single
// transaction through the same driver and synchronous setting: no
// per-request checks, no goroutines, one commit. "driver" uses the driver
// connection and insert call the store's writer uses; "database-sql" goes
// through database/sql, as a plain application would. rows/s is the figure
// to compare with BenchmarkAppendConcurrent's events/s.
//
// "commit-every-1000" is not the ceiling but the bound group commit has on
// this workload: the same loop through the driver, committing after every
// 1,000 rows, as the store must when 1,000 groups each wait for their
// append to be durable. It has none of the store's work (no goroutines,
// no checks), so the gap between it and the ceiling is what the commit
// pattern itself costs.
func BenchmarkInsertCeiling(b *testing.B) {
	for _, mode := range []string{"full", "normal"} {
		b.Run("driver/sync="+mode, func(b *testing.B) {
			benchInsertDriver(b, mode, 0)
		})
		b.Run("commit-every-1000/sync="+mode, func(b *testing.B) {
			benchInsertDriver(b, mode, benchGroups)
		})
		b.Run("database-sql/sync="+mode, func(b *testing.B) {
			benchInsertSQL(b, mode)
		})
	}
}

func ceilingDSN(b *testing.B, mode string) string {
	return fmt.Sprintf("%s?_journal_mode=WAL&_synchronous=%s&_busy_timeout=5000&_cache_size=-65536",
		filepath.Join(b.TempDir(), "ceiling.db"), mode)
}

// benchInsertDriver inserts b.N rows in one transaction, or, with every
// above zero, commits after every that many rows.
func benchInsertDriver(b *testing.B, mode string, every int) {
	c, err := (&sqlite3.SQLiteDriver{}).Open(ceilingDSN(b, mode))
	if err != nil {
		b.Fatal(err)
	}
	conn := c.(*sqlite3.SQLiteConn)
	defer conn.Close()
	if _, err := conn.Exec(writerPragmas+schema, nil); err != nil {
		b.Fatal(err)
	}
	ids := uuids(b.N)
	data := benchData()
	st, err := conn.Prepare(`INSERT INTO events (position, stream, version, id, type, data, metadata, recorded)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ins := st.(*sqlite3.SQLiteStmt)
	streams := make([]string, benchGroups)
	for g := range streams {
		streams[g] = fmt.Sprintf("group-%04d", g)
	}
	args := make([]driver.NamedValue, 8)
	for i := range args {
		args[i].Ordinal = i + 1
	}
	b.ResetTimer()
	start := time.Now()
	if _, err := conn.Exec("BEGIN IMMEDIATE", nil); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UnixNano()
	for i := 0; i < b.N; i++ {
		if every > 0 && i > 0 && i%every == 0 {
			if _, err := conn.Exec("COMMIT; BEGIN IMMEDIATE", nil); err != nil {
				b.Fatal(err)
			}
		}
		args[0].Value = int64(i + 1)
		args[1].Value = streams[i%benchGroups]
		args[2].Value = int64(i / benchGroups)
		args[3].Value = ids[i]
		args[4].Value = benchType
		args[5].Value = data
		args[6].Value = nil
		args[7].Value = now
		if err := execStmt(ins, args); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := conn.Exec("COMMIT", nil); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
}

func benchInsertSQL(b *testing.B, mode string) {
	db, err := sql.Open("sqlite3", ceilingDSN(b, mode))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(writerPragmas + schema); err != nil {
		b.Fatal(err)
	}
	ids := uuids(b.N)
	data := benchData()
	streams := make([]string, benchGroups)
	for g := range streams {
		streams[g] = fmt.Sprintf("group-%04d", g)
	}
	b.ResetTimer()
	start := time.Now()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	st, err := tx.Prepare(`INSERT INTO events (position, stream, version, id, type, data, metadata, recorded)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UnixNano()
	for i := 0; i < b.N; i++ {
		if _, err := st.Exec(int64(i+1), streams[i%benchGroups], int64(i/benchGroups), ids[i], benchType, data, nil, now); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
}

// BenchmarkAppendSingleLatency: one appender, one message per Append, each
// waiting for the previous one, so every Append pays a full commit. p50-µs
// and p99-µs are the latencies a lone writer sees.
func BenchmarkAppendSingleLatency(b *testing.B) {
	for _, mode := range []string{"full", "normal"} {
		b.Run("sync="+mode, func(b *testing.B) {
			s := openBench(b, Options{Synchronous: mode})
			defer s.Close()
			ids := uuids(b.N)
			data := benchData()
			lat := make([]time.Duration, b.N)
			ctx := context.Background()
			exp := eventstore.NoStream()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				res, err := s.Append(ctx, "group-0001", exp, eventstore.EventData{ID: ids[i], Type: benchType, Data: data})
				lat[i] = time.Since(t0)
				if err != nil {
					b.Fatal(err)
				}
				exp = eventstore.Exact(res.Version)
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat[(len(lat)*99)/100].Nanoseconds())/1e3, "p99-µs")
		})
	}
}

// readTarget is the group the read benchmarks read: it holds 10,000 events,
// spread evenly through the log among 999 other groups.
const (
	readTarget = "group-target"
	readCount  = 10000
	readWarmup = 3
)

// buildLog writes a log of total events straight into a fresh file, in one
// transaction with synchronous off: it only prepares data for the read
// benchmarks, so it skips Append's checks and durability. Every
// total/readCount-th event belongs to readTarget.
// benchLogs holds the logs built for the read benchmarks, so both of them
// read the same files and each is built once per test binary run. TestMain
// removes them.
var benchLogs struct {
	sync.Mutex
	dir   string
	paths map[int]string
}

func sharedLog(b *testing.B, total int) string {
	b.Helper()
	benchLogs.Lock()
	defer benchLogs.Unlock()
	if p, ok := benchLogs.paths[total]; ok {
		return p
	}
	if benchLogs.dir == "" {
		dir, err := os.MkdirTemp("", "eventstore-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchLogs.dir, benchLogs.paths = dir, make(map[int]string)
	}
	p := buildLog(b, benchLogs.dir, total)
	benchLogs.paths[total] = p
	return p
}

func removeBenchLogs() {
	benchLogs.Lock()
	defer benchLogs.Unlock()
	if benchLogs.dir != "" {
		os.RemoveAll(benchLogs.dir)
	}
}

func buildLog(b *testing.B, dir string, total int) string {
	b.Helper()
	path := filepath.Join(dir, fmt.Sprintf("log-%d.db", total))
	c, err := (&sqlite3.SQLiteDriver{}).Open(path + "?_journal_mode=WAL&_synchronous=OFF&_cache_size=-262144")
	if err != nil {
		b.Fatal(err)
	}
	conn := c.(*sqlite3.SQLiteConn)
	defer conn.Close()
	if _, err := conn.Exec(schema+fmt.Sprintf("PRAGMA user_version = %d;", schemaVersion), nil); err != nil {
		b.Fatal(err)
	}
	st, err := conn.Prepare(`INSERT INTO events (position, stream, version, id, type, data, metadata, recorded)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ins := st.(*sqlite3.SQLiteStmt)
	if _, err := conn.Exec("BEGIN", nil); err != nil {
		b.Fatal(err)
	}
	others := make([]string, benchGroups-1)
	for g := range others {
		others[g] = fmt.Sprintf("group-%04d", g)
	}
	otherVer := make([]int64, len(others))
	data := benchData()
	args := make([]driver.NamedValue, 8)
	for i := range args {
		args[i].Ordinal = i + 1
	}
	every := total / readCount
	var targetVer int64
	now := time.Now().UnixNano()
	for i := 0; i < total; i++ {
		args[0].Value = int64(i + 1)
		if i%every == every-1 {
			args[1].Value, args[2].Value = readTarget, targetVer
			targetVer++
		} else {
			g := i % len(others)
			args[1].Value, args[2].Value = others[g], otherVer[g]
			otherVer[g]++
		}
		args[3].Value = uuidString()
		args[4].Value = benchType
		args[5].Value = data
		args[6].Value = nil
		args[7].Value = now + int64(i)
		if err := execStmt(ins, args); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := conn.Exec("COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", nil); err != nil {
		b.Fatal(err)
	}
	if targetVer != readCount {
		b.Fatalf("target has %d events, want %d", targetVer, readCount)
	}
	return path
}

var readSizes = []struct {
	name  string
	total int
}{
	{"log=10k", 10_000},
	{"log=1M", 1_000_000},
}

// BenchmarkReadStreamLast10k: ReadStream of one group's last 10,000 events
// (the whole group), in a log of 10,000 events (the group alone) and of
// 1,000,000 (the group's events scattered among 999 other groups). ns/op is
// one 10,000-event read; compare with BenchmarkPlainSelect10k, and the two
// sizes with each other.
//
// The sub-benchmark "log=1M/cache=64MiB" gives the readers a page cache of
// 64 MiB instead of the default 16 MiB, enough for every page the 1M read
// touches: it shows what a bigger cache does and does not change.
func BenchmarkReadStreamLast10k(b *testing.B) {
	type variant struct {
		name string
		size int
		opts Options
	}
	variants := []variant{}
	for _, size := range readSizes {
		variants = append(variants, variant{size.name, size.total, Options{}})
	}
	variants = append(variants, variant{"log=1M/cache=64MiB", 1_000_000, Options{CacheSizeKiB: 4 * 65536}},
		variant{"log=1M/mmap=none", 1_000_000, Options{MmapBytes: -1}})
	for _, v := range variants {
		path := sharedLog(b, v.size)
		b.Run(v.name, func(b *testing.B) {
			s, err := Open(path, v.opts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			// Untimed reads first: the figure is for a warm cache, as for a
			// group that is being read repeatedly.
			for i := 0; i < readWarmup; i++ {
				if _, err := s.ReadStream(ctx, readTarget, 0, readCount); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				evs, err := s.ReadStream(ctx, readTarget, 0, readCount)
				if err != nil || len(evs) != readCount {
					b.Fatalf("ReadStream: %d events, %v", len(evs), err)
				}
			}
			b.ReportMetric(float64(b.N*readCount)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkPlainSelect10k: the same rows as BenchmarkReadStreamLast10k read
// with a plain indexed SELECT through database/sql on a default connection,
// scanned into local variables: the floor ReadStream is measured against.
func BenchmarkPlainSelect10k(b *testing.B) {
	for _, size := range readSizes {
		path := sharedLog(b, size.total)
		b.Run(size.name, func(b *testing.B) {
			db, err := sql.Open("sqlite3", path)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			b.ResetTimer()
			for i := -readWarmup; i < b.N; i++ {
				if i == 0 {
					b.ResetTimer() // negative iterations only warm the cache
				}
				rows, err := db.QueryContext(ctx, `SELECT position, version, id, type, data, metadata, recorded
					FROM events WHERE stream = ? AND version >= ? ORDER BY version LIMIT ?`, readTarget, 0, readCount)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					var (
						pos, ver, rec int64
						id, typ       string
						data, meta    []byte
					)
					if err := rows.Scan(&pos, &ver, &id, &typ, &data, &meta, &rec); err != nil {
						b.Fatal(err)
					}
					n++
				}
				if err := rows.Err(); err != nil || n != readCount {
					b.Fatalf("select: %d rows, %v", n, err)
				}
				rows.Close()
			}
			b.ReportMetric(float64(b.N*readCount)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
