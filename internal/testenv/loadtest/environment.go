package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/uuchat/groupchat/internal/testenv/ejabberd"
)

// Environment describes where the benchmark ran.
type Environment struct {
	Prosody  string // the version line of "prosodyctl about"
	Ejabberd string // the version of the installed ejabberd
	Go       string // "go version" of the toolchain that built the component
	CPU      string // model name
	Cores    int
	Kernel   string
}

func probeEnvironment(ctx context.Context, servers []Server) Environment {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	e := Environment{Cores: runtime.NumCPU(), Prosody: "unknown", Ejabberd: "unknown", Go: runtime.Version(), CPU: "unknown"}
	if v := ejabberd.Version(); v != "" && slices.Contains(servers, Ejabberd) {
		e.Ejabberd = v
	}
	if slices.Contains(servers, Prosody) {
		e.Prosody = prosodyVersion(ctx)
	}
	if out, err := exec.CommandContext(ctx, "go", "version").Output(); err == nil {
		e.Go = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				e.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = runtime.GOOS + " " + strings.TrimSpace(string(b))
	} else {
		e.Kernel = runtime.GOOS
	}
	return e
}

// probeFsync times writing and fsyncing 4 KiB in dir a few times and
// returns the median and the slowest. The component's durable commits
// (--sync full) wait for such fsyncs, so a slow or busy disk shows here
// rather than as a mystery in the latencies.
func probeFsync(dir string) (median, slowest time.Duration, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, 0, err
	}
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	block := make([]byte, 4096)
	var took []time.Duration
	for i := 0; i < 9; i++ {
		start := time.Now()
		if _, err := f.Write(block); err != nil {
			return 0, 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, 0, err
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	return took[len(took)/2], took[len(took)-1], nil
}

// prosodyVersion returns the version line of "prosodyctl about", or
// "unknown".
func prosodyVersion(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "prosodyctl", "about").Output()
	if err != nil {
		return "unknown"
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "Prosody ") {
			return line
		}
	}
	return "unknown"
}
