package link

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// countingWriter counts what the server side reads and says when it has
// read want bytes.
type countingWriter struct {
	mu   sync.Mutex
	n    int64
	want int64
	done chan struct{}
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n += int64(len(p))
	if w.n >= w.want && w.done != nil {
		close(w.done)
		w.done = nil
	}
	return len(p), nil
}

// BenchmarkSend is the component's side of one delivered group message:
// Send of a rendered message stanza (one recipient) through the queue, the
// writer and a loopback TCP connection to an XEP-0114 server that reads it.
// One op is one stanza; the benchmark ends when the server has read every
// byte.
func BenchmarkSend(b *testing.B) {
	srv := newFakeServer(b, "s3cret")
	l, h, _ := startLink(b, srv, "s3cret", 65536)
	<-h.connected
	conn := <-srv.conns

	m := domain.MessagePosted{ID: "hysf1v37", Sender: "alice@example.test", MID: "alice",
		Body: "Shall we meet at noon tomorrow, by the station? I will bring the tickets.", At: time.Now()}
	o := protocol.GroupMessage("coven@comp.example.test/alice", "coven@comp.example.test", m, "123456").
		For("bob@example.test/phone")
	size := int64(len(o.AppendTo(nil)))

	w := &countingWriter{want: size * int64(b.N), done: make(chan struct{})}
	done := w.done
	go io.Copy(w, conn.(*decodedConn).Conn)

	ctx := context.Background()
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := l.Send(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	<-done
}
