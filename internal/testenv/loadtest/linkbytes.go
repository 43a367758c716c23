package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/uuchat/groupchat/internal/metrics"
)

// freeLoopbackAddr returns "127.0.0.1:PORT" with a port free a moment ago,
// for the component's HTTP listener.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// linkBytes reads the component's count of bytes written to the server
// from its /metrics.
func (c *component) linkBytes(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.metrics, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("reading the component's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("reading the component's metrics: %s", resp.Status)
	}
	v, err := counterValue(resp.Body, metrics.LinkBytesWritten)
	if err != nil {
		return 0, fmt.Errorf("the component's metrics: %w", err)
	}
	return int64(v), nil
}

// counterValue finds the sample of an unlabelled metric in the Prometheus
// text exposition format: "NAME VALUE" with an optional timestamp.
func counterValue(r io.Reader, name string) (float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != name {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: value %q: %w", name, f[1], err)
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s", name)
}
