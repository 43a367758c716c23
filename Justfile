# Recipes for building, running and testing the group chat service.

set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes.
default:
    @just --list

# Install Prosody from Debian's packages if it is missing (the package's own system-wide service is stopped: the project runs its own Prosody).
deps:
    @command -v prosody >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prosody && { systemctl disable --now prosody || service prosody stop || true; } >/dev/null 2>&1; }

# Install ejabberd from Debian's packages if it is missing (its system-wide service is stopped: the tests run their own nodes).
deps-ejabberd:
    @dpkg -s ejabberd >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ejabberd && { systemctl disable --now ejabberd || service ejabberd stop || true; } >/dev/null 2>&1; }

# Build the groupchat binary into ./bin.
build:
    go build -o bin/groupchat ./cmd/groupchat

# Start Prosody and the component on 127.0.0.1 with demo accounts, a demo group and Converse.js in the browser (Ctrl-C stops both).
run *ARGS: deps
    go run ./cmd/groupchat dev {{ARGS}}

# Install the pinned Converse.js that `just run` serves (npm, into the user's cache directory; `just run` does it too when it is missing).
web-client:
    go run ./cmd/groupchat dev --install-web-client

# The same behind a private ejabberd instead of Prosody.
run-ejabberd *ARGS: deps-ejabberd
    go run ./cmd/groupchat dev --xmpp-server ejabberd {{ARGS}}

# The whole test suite: vet, then every test with the race detector (end-to-end tests start a real Prosody), then the end-to-end suite again behind ejabberd.
test: deps deps-ejabberd
    go vet ./...
    go test -race -count=1 -timeout 20m ./...
    GROUPCHAT_E2E_SERVER=ejabberd go test -race -count=1 -timeout 20m ./xmpp/e2e/

# Quick loop: unit tests only, no Prosody.
test-short:
    go test -short ./...

# End-to-end load benchmark on a private Prosody: groupchat (with and without multicast) vs MUC vs MUC+MAM, three rounds (--rounds 1 for one); writes docs/bench/.
bench *ARGS: deps
    go run ./cmd/groupchat-bench --scenario all --markdown docs/bench/load.md --chart docs/bench/load.png {{ARGS}}

# The same behind a private ejabberd, against its own mod_muc and mod_mam, on the 10x10 and 1x200 scenarios; writes docs/bench/load-ejabberd.*.
bench-ejabberd *ARGS: deps-ejabberd
    go run ./cmd/groupchat-bench --server ejabberd --scenario 10x10,1x200 --markdown docs/bench/load-ejabberd.md --chart docs/bench/load-ejabberd.png {{ARGS}}

# Server-side fan-out: groupchat through the server's multicast service (XEP-0033) and one stanza per recipient, against each server's own MUC with and without archive, behind Prosody (with contrib/prosody's module) and ejabberd (mod_multicast); three rounds, about 10 minutes; writes docs/bench/fanout-multicast.*.
bench-fanout *ARGS: deps deps-ejabberd
    go run ./cmd/groupchat-bench --server both --scenario 10x10,1x200 --systems all --rounds 3 --markdown docs/bench/fanout-multicast.md --chart docs/bench/fanout-multicast.png {{ARGS}}

# What the log's length costs: build logs of 1M and 10M events (Chat mix; 10,000 groups and 20,000 users, 100,000 and 200,000 at 10M), start the service on each (projections rebuilt, then a restart), report start-up time and peak memory; then what one group's length costs its post, catch-up and MAM page (100 against 1,000,000 messages). The 10M log takes a while to build.
bench-scale:
    go run ./cmd/groupchat-scale --events 1000000 --groups 10000 --users 20000
    go run ./cmd/groupchat-scale --events 10000000 --groups 100000 --users 200000
    go test -run '^$' -bench 'BenchmarkOneGroupsHistory' -benchtime 2000x ./xmpp/service/

# Go benchmarks of the store, projections, service and domain.
bench-go:
    go test -run '^$' -bench . -benchmem ./...

# Run every fuzz target for FUZZTIME each: a count such as 1000000x (default), or a duration.
fuzz FUZZTIME="1000000x":
    #!/usr/bin/env bash
    set -euo pipefail
    for pkg in $(go list ./...); do
      for f in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
        echo "== $pkg $f"
        go test -run '^$' -fuzz "^$f\$" -fuzztime {{FUZZTIME}} "$pkg"
      done
    done

# Fault soak: kill -9 the component 25 times under load, restart the server; nothing acknowledged may be lost or doubled.
soak KILLS="25": deps
    GROUPCHAT_SOAK_KILLS={{KILLS}} go test -count=1 -timeout 60m -run 'TestKill9UnderLoad|TestComponentReconnectsAfterServerRestart|TestAcknowledgedMessagesSurviveKill9' -v ./xmpp/e2e

# The KurrentDB backend's conformance suite against a real server at URL. Start one first, on a
# machine with Docker, and wait a few seconds for it to answer:
#   docker run --rm -d --name kurrentdb -p 2113:2113 docker.kurrent.io/kurrent-latest/kurrentdb --insecure
# Stop it afterwards with `docker stop kurrentdb` (--rm discards its data).
test-kurrentdb URL="kurrentdb://localhost:2113?tls=false":
    @echo "KurrentDB conformance suite against {{URL}}"
    KURRENTDB_URL='{{URL}}' go test -race -count=1 -v -run TestConformance ./eventstore/kurrent/

# gofmt and go vet.
lint:
    test -z "$(gofmt -l $(git ls-files '*.go'))"
    go vet ./...
