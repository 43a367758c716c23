package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Environment describes where the benchmark ran.
type Environment struct {
	Prosody string // the version line of "prosodyctl about"
	Go      string // "go version" of the toolchain that built the component
	CPU     string // model name
	Cores   int
	Kernel  string
}

func probeEnvironment(ctx context.Context) Environment {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	e := Environment{Cores: runtime.NumCPU(), Prosody: "unknown", Go: runtime.Version(), CPU: "unknown"}
	if out, err := exec.CommandContext(ctx, "prosodyctl", "about").Output(); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "Prosody ") {
				e.Prosody = line
				break
			}
		}
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
