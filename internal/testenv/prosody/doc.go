// Package prosody runs a real Prosody XMPP server (0.12) as a child process
// for end-to-end tests, local development and load generation.
//
// Start writes a generated configuration into Options.Dir, starts
// "prosody -F --config FILE" in the foreground and waits until Prosody
// accepts TCP connections on its client (c2s) and external component
// (XEP-0114) ports. Everything listens on 127.0.0.1 only; encryption is not
// required and PLAIN authentication is allowed on the unencrypted stream, so
// plain TCP clients such as package xmppclient can log in. Server-to-server
// networking is disabled.
//
// Typical test usage:
//
//	srv, err := prosody.Start(ctx, prosody.Options{
//		Dir:        t.TempDir(),
//		Domain:     "example.test",
//		Components: map[string]string{"groupchat.example.test": "s3cret"},
//	})
//	if err != nil {
//		t.Fatal(err)
//	}
//	t.Cleanup(func() { srv.Stop() })
//	err = srv.Register(ctx, "alice", "password")
//
// The child process is placed in its own process group and, on Linux, is
// killed by the kernel when the process that started it exits, so an
// interrupted test run does not leave Prosody running. Callers should still
// call Stop.
package prosody
