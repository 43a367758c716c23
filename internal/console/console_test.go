package console

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/uuchat/groupchat/internal/audit"
)

func TestRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	appended := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "groupchat_events_appended_total", Help: "h"}, []string{"type"})
	reg.MustRegister(appended)
	appended.WithLabelValues("MessagePosted").Add(5)
	appended.WithLabelValues("GroupCreated").Add(2)
	linkUp := false
	for _, pprofOn := range []bool{false, true} {
		s, err := Listen(Config{
			Addr: "127.0.0.1:0", Pprof: pprofOn, Gatherer: reg,
			Checks: []Check{
				{Name: "store", Func: func(context.Context) error { return nil }},
				{Name: "link", Func: func(context.Context) error {
					if !linkUp {
						return ErrLinkDown
					}
					return nil
				}},
			},
			Audit: func(ctx context.Context, group string) ([]audit.Entry, error) {
				if group == "broken" {
					return nil, errors.New("disk on fire")
				}
				return nil, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		s.l.Close()
		srv := httptest.NewServer(s.Handler())
		for _, tc := range []struct {
			path string
			code int
			want string
		}{
			{"/metrics", 200, `groupchat_events_appended_total{type="MessagePosted"} 5`},
			{"/healthz", 503, `"link":"the component link to the XMPP server is down"`},
			{"/api/figures", 200, `"messages":5`},
			{"/api/groups", 200, `[]`},
			{"/api/audit", 400, "group parameter"},
			{"/api/audit?group=nosuch", 404, `no group \"nosuch\"`},
			{"/api/audit?group=broken", 500, "disk on fire"},
			{"/", 200, "<title>groupchat</title>"},
			{"/app.js", 200, "api/figures"},
			{"/debug/pprof/", map[bool]int{false: 404, true: 200}[pprofOn], map[bool]string{false: "", true: "goroutine"}[pprofOn]},
		} {
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.want) {
				t.Errorf("pprof %v: GET %s = %d %.300s; want %d with %q", pprofOn, tc.path, resp.StatusCode, b, tc.code, tc.want)
			}
		}
		srv.Close()
	}
	linkUp = true
	s, _ := Listen(Config{Addr: "127.0.0.1:0", Gatherer: reg, Checks: []Check{{Name: "link", Func: func(context.Context) error { return nil }}}})
	defer s.l.Close()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"ok"`) {
		t.Errorf("healthy /healthz = %d %s", rec.Code, rec.Body.String())
	}
	if _, err := Listen(Config{Addr: s.Addr()}); err == nil || !strings.Contains(err.Error(), "--http") {
		t.Errorf("an address in use: %v", err)
	}
}

func TestRates(t *testing.T) {
	reg := prometheus.NewRegistry()
	appended := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "groupchat_events_appended_total", Help: "h"}, []string{"type"})
	reg.MustRegister(appended)
	s := &Server{cfg: Config{Gatherer: reg}}
	if e, m := s.rates(); e != 0 || m != 0 {
		t.Errorf("rates before two samples = %v, %v", e, m)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.sample(t0)
	appended.WithLabelValues("MessagePosted").Add(10)
	appended.WithLabelValues("MemberAdded").Add(2)
	s.sample(t0.Add(2 * time.Second))
	if e, m := s.rates(); e != 6 || m != 5 {
		t.Errorf("rates = %v events/s, %v messages/s; want 6 and 5", e, m)
	}
	// Samples older than the window no longer count.
	s.sample(t0.Add(2*time.Second + rateWindow + time.Second))
	if e, m := s.rates(); e != 0 || m != 0 {
		t.Errorf("rates after a quiet window = %v, %v", e, m)
	}
}
