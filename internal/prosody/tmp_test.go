package prosody_test

import (
	"fmt"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/uuchat/groupchat/internal/prosody"
	"github.com/uuchat/groupchat/internal/xmppclient"
)

func TestTmpRestart(t *testing.T) {
	srv := start(t, prosody.Options{LogLevel: "debug"})
	ctx := testCtx(t)
	srv.Register(ctx, "alice", "pw")
	a := dial(t, ctx, srv, "alice@example.test/a", "pw", xmppclient.Options{})
	st := exec.Command("strace", "-f", "-tt", "-p", strconv.Itoa(srv.PID()), "-o", "/tmp/pt/st4.txt")
	st.Start()
	time.Sleep(300 * time.Millisecond)
	fmt.Println("close at", time.Now().Format("15:04:05.000000"))
	a.Close()
	t0 := time.Now()
	fmt.Println("stop at", t0.Format("15:04:05.000000"))
	err := srv.Stop()
	fmt.Println("stop:", time.Since(t0), err)
	st.Wait()
}
