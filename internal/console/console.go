package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/uuchat/groupchat/internal/audit"
)

// Check is one thing /healthz asks about: Func returns nil when it is fine.
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// Group is a group as the web view lists it.
type Group struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Members   int       `json:"members"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Config is what the console serves.
type Config struct {
	// Addr is HOST:PORT to listen on; port 0 picks a free one.
	Addr string
	// Pprof serves Go's profiler under /debug/pprof/.
	Pprof bool
	// Gatherer is what /metrics serves and where the web view's figures are
	// read from (metric names as in package metrics).
	Gatherer prometheus.Gatherer
	// Checks are what /healthz reports on.
	Checks []Check
	// Groups lists the live groups, most recently changed first.
	Groups func(ctx context.Context) ([]Group, error)
	// Audit is a group's audit trail, oldest first.
	Audit  func(ctx context.Context, group string) ([]audit.Entry, error)
	Logger *slog.Logger
}

// Server is the console's listener; Run serves it.
type Server struct {
	cfg Config
	l   net.Listener
	log *slog.Logger

	mu      sync.Mutex
	samples []sample
}

// sample is a reading of the log's counters, for rates.
type sample struct {
	at               time.Time
	events, messages float64
}

// checkTimeout bounds each health check and each query of the web view.
const checkTimeout = 3 * time.Second

// Listen binds the listener, so that an address in use fails at start.
func Listen(cfg Config) (*Server, error) {
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("--http %s: %w", cfg.Addr, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Server{cfg: cfg, l: l, log: log}, nil
}

// Addr is the address the console listens on.
func (s *Server) Addr() string { return s.l.Addr().String() }

//go:embed web
var webFiles embed.FS

// Handler is the console's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /api/figures", s.figuresHandler)
	mux.HandleFunc("GET /api/groups", s.groups)
	mux.HandleFunc("GET /api/audit", s.audit)
	web, _ := fs.Sub(webFiles, "web")
	mux.Handle("GET /", http.FileServerFS(web))
	if s.cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// Run serves until ctx ends, sampling the counters every second for the
// web view's rates.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(s.l) }()
	host, _, _ := net.SplitHostPort(s.Addr())
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		s.log.Warn("the HTTP listener is not on loopback: metrics, profiles and the web view are open to the network", "addr", s.Addr())
	}
	s.log.Info("http listener ready", "addr", s.Addr(), "pprof", s.cfg.Pprof)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	s.sample(time.Now())
	for {
		select {
		case <-ctx.Done():
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := srv.Shutdown(shut)
			<-served
			return err
		case err := <-served:
			return err
		case now := <-tick.C:
			s.sample(now)
		}
	}
}

// rateWindow is how far back the web view's rates look.
const rateWindow = 10 * time.Second

func (s *Server) sample(now time.Time) {
	fams, err := s.cfg.Gatherer.Gather()
	if err != nil {
		return
	}
	events := sum(fams, "groupchat_events_appended_total", nil)
	messages := sum(fams, "groupchat_events_appended_total", map[string]string{"type": "MessagePosted"})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples = append(s.samples, sample{now, events, messages})
	for len(s.samples) > 1 && now.Sub(s.samples[0].at) > rateWindow {
		s.samples = s.samples[1:]
	}
}

// rates are events and messages per second over the samples.
func (s *Server) rates() (events, messages float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) < 2 {
		return 0, 0
	}
	a, b := s.samples[0], s.samples[len(s.samples)-1]
	d := b.at.Sub(a.at).Seconds()
	return (b.events - a.events) / d, (b.messages - a.messages) / d
}

// sum adds up the values of a metric family's series whose labels include
// want.
func sum(fams []*dto.MetricFamily, name string, want map[string]string) float64 {
	var total float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for k, v := range want {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == k && l.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			}
		}
	}
	return total
}

// Figures is what the web view shows at the top, as /api/figures sends it.
type Figures struct {
	Time              time.Time `json:"time"`
	MessagesPerSecond float64   `json:"messages_per_second"`
	EventsPerSecond   float64   `json:"events_per_second"`
	Messages          float64   `json:"messages"`
	Events            float64   `json:"events"`
	OnlineResources   float64   `json:"online_resources"`
	Groups            float64   `json:"groups"`
	ProjectionLag     float64   `json:"projection_lag"`
	LinkConnected     bool      `json:"link_connected"`
	Errors            float64   `json:"errors"`
}

func (s *Server) figures() (Figures, error) {
	fams, err := s.cfg.Gatherer.Gather()
	if err != nil {
		return Figures{}, err
	}
	f := Figures{
		Time:            time.Now().UTC(),
		Events:          sum(fams, "groupchat_events_appended_total", nil),
		Messages:        sum(fams, "groupchat_events_appended_total", map[string]string{"type": "MessagePosted"}),
		OnlineResources: sum(fams, "groupchat_online_resources", nil),
		Groups:          sum(fams, "groupchat_groups", nil),
		ProjectionLag:   sum(fams, "groupchat_projection_lag_events", nil),
		LinkConnected:   sum(fams, "groupchat_link_connected", nil) == 1,
		Errors:          sum(fams, "groupchat_errors_total", nil),
	}
	f.EventsPerSecond, f.MessagesPerSecond = s.rates()
	return f, nil
}

func (s *Server) figuresHandler(w http.ResponseWriter, r *http.Request) {
	f, err := s.figures()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// Health is /healthz's answer.
type Health struct {
	// Status is "ok" or "unavailable".
	Status string `json:"status"`
	// Checks maps each check's name to "ok" or what is wrong.
	Checks map[string]string `json:"checks"`
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	h := Health{Status: "ok", Checks: map[string]string{}}
	for _, c := range s.cfg.Checks {
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		err := c.Func(ctx)
		cancel()
		if err != nil {
			h.Status, h.Checks[c.Name] = "unavailable", err.Error()
			continue
		}
		h.Checks[c.Name] = "ok"
	}
	code := http.StatusOK
	if h.Status != "ok" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

func (s *Server) groups(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Groups == nil {
		writeJSON(w, http.StatusOK, []Group{})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
	defer cancel()
	gs, err := s.cfg.Groups(ctx)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	if gs == nil {
		gs = []Group{}
	}
	writeJSON(w, http.StatusOK, gs)
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	group := r.URL.Query().Get("group")
	if group == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the group parameter is required"})
		return
	}
	if s.cfg.Audit == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no audit trail here"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
	defer cancel()
	entries, err := s.cfg.Audit(ctx, group)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	if len(entries) == 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no group %q", group)})
		return
	}
	writeJSON(w, http.StatusOK, entries)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrLinkDown is what the link health check reports while the component
// link is not connected.
var ErrLinkDown = errors.New("the component link to the XMPP server is down")
