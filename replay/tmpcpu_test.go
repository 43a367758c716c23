package replay_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/replay"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestTmpCPU(t *testing.T) {
	store, err := sqlite.Open("/tmp/bench1m.db", sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if os.Getenv("WARM") != "" {
		c0, w0 := cpu(), time.Now()
		var after uint64
		for {
			evs, _ := store.ReadAll(context.Background(), after, 4096)
			if len(evs) == 0 {
				break
			}
			after = evs[len(evs)-1].Position
		}
		t.Logf("warm read: wall %v cpu %v", time.Since(w0), cpu()-c0)
	}
	for i := 0; i < 3; i++ {
		runtime.GC()
		c0, w0 := cpu(), time.Now()
		st, err := replay.Rebuild(context.Background(), store, filepath.Join(t.TempDir(), "x.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("wall %v cpu %v fold %v write %v", time.Since(w0), cpu()-c0, st.Fold, st.Write)
	}
}
