package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// newServeFlags is serve's flag set, as serveCommand.Run builds it.
func newServeFlags(cfg *serveConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.register(fs)
	fs.String(configFlag, "", "")
	fs.Bool(printConfigFlag, false, "")
	return fs
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "groupchat.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExampleConfigIsTheDefaults keeps contrib/groupchat.toml true: it
// parses, names every setting, and sets each to its default.
func TestExampleConfigIsTheDefaults(t *testing.T) {
	const example = "../../contrib/groupchat.toml"
	var keys map[string]any
	if _, err := toml.DecodeFile(example, &keys); err != nil {
		t.Fatalf("%s does not parse: %v", example, err)
	}
	var cfg serveConfig
	fs := newServeFlags(&cfg)
	src, err := parseSettings(fs, []string{"--config", example})
	if err != nil {
		t.Fatalf("loading %s: %v", example, err)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == configFlag || f.Name == printConfigFlag {
			return
		}
		if _, ok := keys[f.Name]; !ok {
			t.Errorf("%s lacks the key %s", example, f.Name)
		}
		if !strings.Contains(src[f.Name], example) {
			t.Errorf("%s was not read from the file (source %q)", f.Name, src[f.Name])
		}
		if f.Value.String() != f.DefValue {
			t.Errorf("%s: the example sets %s, the default is %s", f.Name, f.Value.String(), f.DefValue)
		}
	})
	var def serveConfig
	newServeFlags(&def)
	if !reflect.DeepEqual(cfg, def) {
		t.Errorf("the example's configuration %+v differs from the defaults %+v", cfg, def)
	}
}

func TestConfigPrecedence(t *testing.T) {
	file := writeConfig(t, "max-members = 10\nname = \"from the file\"\nmessage-rate = 2.5\n")
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		members int
		source  string
	}{
		{"default", nil, nil, 1000, ""},
		{"file", nil, []string{"--config", file}, 10, "key max-members in " + file},
		{"file named by the environment", map[string]string{"GROUPCHAT_CONFIG": file}, nil, 10, "key max-members in " + file},
		{"environment over file", map[string]string{"GROUPCHAT_MAX_MEMBERS": "20"}, []string{"--config", file}, 20, "GROUPCHAT_MAX_MEMBERS"},
		{"flag over environment and file", map[string]string{"GROUPCHAT_MAX_MEMBERS": "20"}, []string{"--config", file, "--max-members", "30"}, 30, "--max-members"},
		{"flag over file", nil, []string{"--max-members=30", "--config", file}, 30, "--max-members"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var cfg serveConfig
			src, err := parseSettings(newServeFlags(&cfg), tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Limits.MaxMembers != tc.members || src["max-members"] != tc.source {
				t.Errorf("max-members = %d from %q, want %d from %q", cfg.Limits.MaxMembers, src["max-members"], tc.members, tc.source)
			}
			if strings.Contains(tc.name, "file") && (cfg.Name != "from the file" || cfg.MessageRate != 2.5) {
				t.Errorf("the file's other keys were not applied: name %q, message-rate %g", cfg.Name, cfg.MessageRate)
			}
		})
	}
}

// TestBadConfigNamesTheKey: a bad value from any source fails before the
// service starts, with a message naming the setting and its source.
func TestBadConfigNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		env  map[string]string
		args []string
		want []string
	}{
		{"unknown key", "max-member = 3\n", nil, nil, []string{`unknown key "max-member"`}},
		{"nested table", "[limits]\nmax-members = 3\n", nil, nil, []string{`unknown key "limits"`}},
		{"the config key in the file", "config = \"other.toml\"\n", nil, nil, []string{`unknown key "config"`}},
		{"string for an integer", "max-members = \"many\"\n", nil, nil, []string{"key max-members in", "want an integer", `"many"`}},
		{"integer for a string", "domain = 5\n", nil, nil, []string{"key domain in", "want a string"}},
		{"string for a bool", "pprof = \"yes\"\n", nil, nil, []string{"key pprof in", "want true or false"}},
		{"fraction for an integer", "max-members = 3.5\n", nil, nil, []string{"key max-members in", "want an integer"}},
		{"zero limit in the file", "max-members = 0\n", nil, nil, []string{"--max-members (key max-members in", "must be positive"}},
		{"negative limit in the environment", "", map[string]string{"GROUPCHAT_QUEUE_SIZE": "-1"}, nil, []string{"--queue-size (GROUPCHAT_QUEUE_SIZE)", "must be positive"}},
		{"no resources per user", "max-resources-per-user = 0\n", nil, nil, []string{"--max-resources-per-user (key max-resources-per-user in", "must be positive"}},
		{"negative online resources in the environment", "", map[string]string{"GROUPCHAT_MAX_ONLINE_RESOURCES": "-5"}, nil, []string{"--max-online-resources (GROUPCHAT_MAX_ONLINE_RESOURCES)", "must be positive"}},
		{"not a number in the environment", "", map[string]string{"GROUPCHAT_MESSAGE_RATE": "fast"}, nil, []string{"GROUPCHAT_MESSAGE_RATE", "want a number"}},
		{"negative rate on the command line", "", nil, []string{"--message-rate", "-1"}, []string{"--message-rate", "messages per second"}},
		{"not a number of messages", "message-rate = nan\n", nil, nil, []string{"--message-rate (key message-rate in", "messages per second"}},
		{"bad sync", "sync = \"sometimes\"\n", nil, nil, []string{"--sync (key sync in", "full or normal"}},
		{"bad log level", "", map[string]string{"GROUPCHAT_LOG_LEVEL": "loud"}, nil, []string{"--log-level (GROUPCHAT_LOG_LEVEL)"}},
		{"bad log format", "log-format = \"xml\"\n", nil, nil, []string{"--log-format (key log-format in"}},
		{"bad http address", "http = \"9090\"\n", nil, nil, []string{"--http (key http in", "HOST:PORT"}},
		{"pprof without http", "pprof = true\n", nil, nil, []string{"--pprof (key pprof in", "needs --http"}},
		{"outbound limit too small", "max-outbound-stanza-bytes = 1000\n", nil, nil, []string{"--max-outbound-stanza-bytes (key max-outbound-stanza-bytes in", "at least 16384"}},
		{"push options leave no room under the outbound limit", "max-outbound-stanza-bytes = 60000\npush-max-options-bytes = 20000\n", nil, nil,
			[]string{"--push-max-options-bytes (key push-max-options-bytes in", "--max-outbound-stanza-bytes"}},
		{"domain not in the form the server uses", "", nil, []string{"--domain", "GroupChat.Example.ORG"}, []string{"--domain", "groupchat.example.org"}},
		{"domain with a local part", "", nil, []string{"--domain", "chat@example.org"}, []string{"--domain", "a domain"}},
		{"not TOML", "max-members = = 3\n", nil, nil, []string{"configuration file"}},
		{"missing file", "", map[string]string{"GROUPCHAT_CONFIG": "/nonexistent/groupchat.toml"}, nil, []string{"configuration file", "/nonexistent/groupchat.toml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := append([]string{"--domain", "groupchat.example.org", "--secret", "s"}, tc.args...)
			if tc.file != "" {
				args = append(args, "--config", writeConfig(t, tc.file))
			}
			cmd := &serveCommand{out: io.Discard}
			err := cmd.Run(t.Context(), append(args, "--print-config"))
			if err == nil {
				t.Fatalf("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestDurationSettings: a duration is a TOML string such as "3s", as on
// the command line.
func TestDurationSettings(t *testing.T) {
	for _, tc := range []struct {
		file string
		want time.Duration
		err  string
	}{
		{"wait = \"1m30s\"\n", 90 * time.Second, ""},
		{"wait = 3\n", 0, "want a duration"},
		{"wait = \"soon\"\n", 0, "want a duration"},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		d := fs.Duration("wait", time.Second, "")
		fs.String(configFlag, "", "")
		src, err := parseSettings(fs, []string{"--config", writeConfig(t, tc.file)})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "key wait in") {
				t.Errorf("%q: error %v, want one naming the key and %q", tc.file, err, tc.err)
			}
			continue
		}
		if err != nil || *d != tc.want {
			t.Errorf("%q: %v, %v; want %v", tc.file, *d, err, tc.want)
		}
		var out bytes.Buffer
		if err := printConfig(&out, fs, src); err != nil || !strings.Contains(out.String(), `wait = "1m30s"`) {
			t.Errorf("printed %q (%v)", out.String(), err)
		}
	}
}

// TestPrintConfig: the printed configuration is TOML that --config reads
// back to the same settings, with the secret redacted.
func TestPrintConfig(t *testing.T) {
	t.Setenv("GROUPCHAT_MAX_MEMBERS", "42")
	file := writeConfig(t, "name = \"Chats\"\nmessage-rate = 1.5\nhttp = \"127.0.0.1:9090\"\n")
	var out bytes.Buffer
	cmd := &serveCommand{out: &out}
	if err := cmd.Run(t.Context(), []string{"--config", file, "--domain", "groupchat.example.org", "--secret", "hunter2", "--print-config"}); err != nil {
		t.Fatal(err)
	}
	printed := out.String()
	if strings.Contains(printed, "hunter2") {
		t.Errorf("the secret is printed:\n%s", printed)
	}
	for _, want := range []string{
		`max-members = 42  # from GROUPCHAT_MAX_MEMBERS`,
		`name = "Chats"  # from key name in ` + file,
		`domain = "groupchat.example.org"  # from --domain`,
		`secret = "(redacted)"`,
		`sync = "full"` + "\n",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("the printed configuration lacks %q:\n%s", want, printed)
		}
	}
	t.Setenv("GROUPCHAT_MAX_MEMBERS", "")
	os.Unsetenv("GROUPCHAT_MAX_MEMBERS")
	var back serveConfig
	if _, err := parseSettings(newServeFlags(&back), []string{"--config", writeConfig(t, printed)}); err != nil {
		t.Fatalf("the printed configuration does not read back: %v\n%s", err, printed)
	}
	want := cmd.cfg
	want.Secret = "(redacted)"
	if !reflect.DeepEqual(back, want) {
		t.Errorf("read back %+v, want %+v", back, want)
	}
}

// FuzzConfigFile: any file is either refused with an error or read into
// settings that --print-config writes back to the same settings.
func FuzzConfigFile(f *testing.F) {
	for _, seed := range []string{
		"max-members = 10\nname = \"x\"\n",
		"message-rate = 2.5\npprof = true\nhttp = \"127.0.0.1:0\"\n",
		"[limits]\nx = 1\n",
		"domain = 5\n",
		"secret = \"s\\u0000\\\"\"\nsystem-admins = \"a@b, c@d\"\n",
		"max-members = 0x10\nqueue-size = 1_000\n",
		"message-rate = nan\n",
		"message-rate = inf\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var cfg serveConfig
		fs := newServeFlags(&cfg)
		src := sources{}
		if err := applyConfig(fs, "fuzz.toml", b, src); err != nil || cfg.check(src) != nil {
			return
		}
		var out bytes.Buffer
		if err := printConfig(&out, fs, src); err != nil {
			t.Fatalf("printing an accepted configuration: %v", err)
		}
		var back serveConfig
		if err := applyConfig(newServeFlags(&back), "printed.toml", out.Bytes(), sources{}); err != nil {
			t.Fatalf("the printed configuration does not read back: %v\n%s", err, out.String())
		}
		if cfg.Secret != "" {
			cfg.Secret = "(redacted)"
		}
		if !reflect.DeepEqual(back, cfg) {
			t.Fatalf("read back %+v, want %+v\n%s", back, cfg, out.String())
		}
	})
}
