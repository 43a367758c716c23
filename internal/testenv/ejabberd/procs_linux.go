//go:build linux

package ejabberd

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// procID identifies a process across pid reuse: its pid and start time.
type procID struct {
	pid   int
	start string
}

// statFields returns the fields of /proc/PID/stat after "pid (comm)":
// state, ppid, ... (start time is index 19).
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// descendants lists the live descendants of pid. The Erlang VM starts
// erl_child_setup in a session of its own, so they are not in its process
// group; they exit on their own shortly after the VM, which the caller
// waits for.
func descendants(pid int) []procID {
	children := map[int][]procID{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(p)
		if len(f) < 20 || f[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], procID{p, f[19]})
	}
	var out []procID
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out
}

// alive reports whether the process still runs (and is the same process).
func (p procID) alive() bool {
	f := statFields(p.pid)
	return len(f) >= 20 && f[0] != "Z" && f[19] == p.start
}

// kill sends SIGKILL to the process if it is still the same one.
func (p procID) kill() {
	if p.alive() {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
}
