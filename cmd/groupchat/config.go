package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// The configuration of `serve` comes from four places; the first that sets a
// setting wins:
//
//  1. a flag on the command line (--max-members 500),
//  2. its environment variable (GROUPCHAT_MAX_MEMBERS=500),
//  3. the configuration file (max-members = 500), named by --config or
//     GROUPCHAT_CONFIG,
//  4. the default.
//
// A file key is the flag's name. Every value is checked at start, and an
// error names the setting and where its value came from.

// configFlag names the configuration file; it is not itself a file key.
const configFlag = "config"

// printConfigFlag asks serve to print the effective configuration.
const printConfigFlag = "print-config"

// sources tells, for each setting not left at its default, where its value
// came from: "--name" (command line), the environment variable, or the file.
type sources map[string]string

// describe names a setting for an error message: the flag, and where the
// value came from when that was not the command line.
func (s sources) describe(name string) string {
	if w := s[name]; w != "" && w != "--"+name {
		return "--" + name + " (" + w + ")"
	}
	return "--" + name
}

// parseSettings parses args, then fills every flag not given on the command
// line from its environment variable and, if fs has a --config flag, from
// the configuration file. It returns where each value came from.
func parseSettings(fs *flag.FlagSet, args []string) (sources, error) {
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage = fmt.Sprintf("%s (env %s)", f.Usage, envName(f.Name))
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	src := sources{}
	fs.Visit(func(f *flag.Flag) { src[f.Name] = "--" + f.Name })

	// The environment wins over the file: read the file first, then let the
	// environment overwrite what it sets.
	if cf := fs.Lookup(configFlag); cf != nil {
		path := cf.Value.String()
		if src[configFlag] == "" {
			if v, ok := os.LookupEnv(envName(configFlag)); ok {
				path = v
				if err := fs.Set(configFlag, v); err != nil {
					return nil, err
				}
				src[configFlag] = envName(configFlag)
			}
		}
		if path != "" {
			if err := loadConfigFile(fs, path, src); err != nil {
				return nil, err
			}
		}
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || src[f.Name] == "--"+f.Name || f.Name == configFlag {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", envName(f.Name), v, badValue(f, e))
				return
			}
			src[f.Name] = envName(f.Name)
		}
	})
	return src, err
}

// parseFlags is parseSettings for commands that do not need to know where
// a value came from.
func parseFlags(fs *flag.FlagSet, args []string) error {
	_, err := parseSettings(fs, args)
	return err
}

// loadConfigFile sets, from the TOML file at path, every flag that the
// command line did not set. An unknown key or a value of the wrong type is
// an error naming the key and the file.
func loadConfigFile(fs *flag.FlagSet, path string, src sources) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("configuration file: %w", err)
	}
	return applyConfig(fs, path, b, src)
}

func applyConfig(fs *flag.FlagSet, path string, b []byte, src sources) error {
	var values map[string]any
	if _, err := toml.Decode(string(b), &values); err != nil {
		return fmt.Errorf("configuration file %s: %w", path, err)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		where := fmt.Sprintf("key %s in %s", key, path)
		f := fs.Lookup(key)
		if f == nil || key == configFlag || key == printConfigFlag {
			return fmt.Errorf("configuration file %s: unknown key %q (the keys are the flags of 'groupchat serve --help', without the dashes)", path, key)
		}
		text, err := configText(values[key], f)
		if err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
		if src[key] == "--"+key {
			continue
		}
		if err := fs.Set(key, text); err != nil {
			return fmt.Errorf("%s: %v", where, badValue(f, err))
		}
		src[key] = where
	}
	return nil
}

// configText checks that a TOML value has the flag's type and returns it as
// the flag would read it on the command line.
func configText(v any, f *flag.Flag) (string, error) {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "", fmt.Errorf("cannot be set from a file")
	}
	switch g.Get().(type) {
	case string:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return "", fmt.Errorf("want a string, got %s", tomlType(v))
	case time.Duration:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return "", fmt.Errorf("want a duration such as \"3s\" or \"1m30s\", got %s", tomlType(v))
	case bool:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
		return "", fmt.Errorf("want true or false, got %s", tomlType(v))
	case int:
		if n, ok := v.(int64); ok {
			return strconv.FormatInt(n, 10), nil
		}
		return "", fmt.Errorf("want an integer, got %s", tomlType(v))
	case float64:
		switch n := v.(type) {
		case int64:
			return strconv.FormatInt(n, 10), nil
		case float64:
			return strconv.FormatFloat(n, 'g', -1, 64), nil
		}
		return "", fmt.Errorf("want a number, got %s", tomlType(v))
	}
	return "", fmt.Errorf("cannot be set from a file")
}

// badValue explains a value a flag refused: flag's own errors ("parse
// error", "value out of range") do not say what was wanted.
func badValue(f *flag.Flag, err error) error {
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case int:
			return fmt.Errorf("want an integer (%v)", err)
		case float64:
			return fmt.Errorf("want a number (%v)", err)
		case bool:
			return fmt.Errorf("want true or false (%v)", err)
		case time.Duration:
			return fmt.Errorf("want a duration such as 3s or 1m30s (%v)", err)
		}
	}
	return err
}

func tomlType(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case int64:
		return fmt.Sprintf("the integer %d", v)
	case float64:
		return fmt.Sprintf("the number %g", v)
	case bool:
		return fmt.Sprintf("%t", v)
	case map[string]any:
		return "a table"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

// printConfig writes the effective configuration as a TOML file that
// `--config` reads back, with where each value came from; the shared secret
// is redacted.
func printConfig(w io.Writer, fs *flag.FlagSet, src sources) error {
	var buf bytes.Buffer
	buf.WriteString("# The effective configuration of groupchat serve (secret redacted).\n")
	if p := fs.Lookup(configFlag); p != nil && p.Value.String() != "" {
		fmt.Fprintf(&buf, "# Configuration file: %s\n", p.Value.String())
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || f.Name == configFlag || f.Name == printConfigFlag {
			return
		}
		v := f.Value.(flag.Getter).Get()
		if f.Name == "secret" && v != "" {
			v = "(redacted)"
		}
		var line bytes.Buffer
		if e := toml.NewEncoder(&line).Encode(map[string]any{f.Name: v}); e != nil {
			err = e
			return
		}
		buf.WriteString(strings.TrimSuffix(line.String(), "\n"))
		if w := src[f.Name]; w != "" {
			buf.WriteString("  # from " + w)
		}
		buf.WriteByte('\n')
	})
	if err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}
