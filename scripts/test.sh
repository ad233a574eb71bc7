#!/usr/bin/env bash
# Runs every test: formatting, vet, unit and integration tests (race detector
# on), and each fuzz target for a bounded time. Integration tests need root;
# redis-server, iproute2, systemd (for systemd-analyze), prometheus (for
# promtool), rsyslog (the SONiC log format test), lintian (the package test)
# and man-db are installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v ip >/dev/null || missing+=(iproute2)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v promtool >/dev/null || missing+=(prometheus)
command -v rsyslogd >/dev/null || missing+=(rsyslog)
command -v lintian >/dev/null || missing+=(lintian)
command -v man >/dev/null || missing+=(man-db)
if ((${#missing[@]})); then
	echo "== installing ${missing[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== go test -race"
go test -race -count=1 -timeout 20m ./...

# A count, not a duration: Go 1.26's coordinator can fail a duration run
# with "context deadline exceeded" at its end on a busy machine, having
# found nothing (go.dev/issue/75804, fixed in Go 1.27). 150000 executions
# take 10-30 s per target here.
fuzztime=${FUZZTIME:-150000x}
for target in \
	./dbconfig:FuzzParse \
	./dbconfig:FuzzParseGlobal \
	./actors/netlinkrx:FuzzDecode \
	./actors/netlinkrx:FuzzReadDatagram; do
	pkg=${target%%:*} name=${target##*:}
	echo "== fuzz $name ($fuzztime)"
	go test -run=NONE -fuzz="^${name}\$" -fuzztime="$fuzztime" "$pkg"
done
echo "== all tests passed"
