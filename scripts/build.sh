#!/usr/bin/env bash
# Builds dist/portsyncd: static, trimmed and reproducible, with the version,
# commit and build date stamped in (portsyncd --version prints them).
#
#   version  git describe --tags (a v1.2.3 tag gives 1.2.3, later commits
#            1.2.3-4-gabc1234); with no tag, VERSION's contents the same way
#            (0.16.0-4-gabc1234); with no git at all, VERSION as it is.
#            "-dirty" when the work tree has changes.
#   commit   the full commit hash, or "unknown" without git.
#   date     the commit's date (SOURCE_DATE_EPOCH when set), never "now":
#            building the same commit twice gives the same bytes.
#
# OUT=path changes the output; GOARCH=arm64 etc. cross-builds.
set -euo pipefail
cd "$(dirname "$0")/.."

base=$(tr -d ' \n' < VERSION)
commit=unknown
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	dirty=""
	[ -z "$(git status --porcelain --untracked-files=no)" ] || dirty="-dirty"
	commit=$(git rev-parse HEAD)$dirty
	if described=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
		version=${described#v}$dirty
	else
		count=$(git rev-list --count HEAD)
		version="$base-$count-g$(git rev-parse --short=7 HEAD)$dirty"
	fi
	: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct)}"
else
	version=$base
	: "${SOURCE_DATE_EPOCH:=$(stat -c %Y VERSION)}"
fi
export SOURCE_DATE_EPOCH
date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

out=${OUT:-dist/portsyncd}
mkdir -p "$(dirname "$out")"
pkg=github.com/sonic-go/portsyncd/buildinfo
# -trimpath: no build paths in the binary; -buildid= and -buildvcs=false: no
# IDs that differ between identical builds; -s -w: no symbol table or DWARF
# (panics still print file:line); CGO_ENABLED=0: static, no libc to match.
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -buildid= -X $pkg.version=$version -X $pkg.commit=$commit -X $pkg.date=$date" \
	-o "$out" ./cmd/portsyncd
echo "$out: $("$out" --version)"
