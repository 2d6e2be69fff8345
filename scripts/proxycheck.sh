#!/usr/bin/env bash
# proxycheck.sh proves that what a release would publish installs and
# imports as a user's go command gets it: it serves the three modules of the
# working tree (the SDK at the root, mirror, cmd/convo) from a file-based
# module proxy at a made-up version, each go.mod requiring the others at
# that version, and then, in an empty module with a module cache of its own:
#
#   - go install github.com/convokit/convo/cmd/convo@VERSION, and runs it;
#   - go get github.com/convokit/convo@VERSION and builds a program
#     importing it: its `go list -m all` has no CLI, terminal or database
#     module (nor mirror or cmd/convo);
#   - go get github.com/convokit/convo/mirror@VERSION and builds a program
#     importing it: no CLI or terminal module;
#
# and checks that each module, alone (no go.work), is tidy and verified.
#
# Our modules come only from the local proxy: the version exists nowhere
# else, and GONOSUMDB keeps them away from the checksum database. Other
# modules come from the local module cache, else the usual proxy.
#
# Usage: scripts/proxycheck.sh [VERSION]   (default v0.99.0-proxycheck;
# a module path below v2 takes a v0 or v1 version)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VERSION=${1:-v0.99.0-proxycheck}
MODULES=(
	"github.com/convokit/convo=."
	"github.com/convokit/convo/mirror=mirror"
	"github.com/convokit/convo/cmd/convo=cmd/convo"
)
# What a program importing only the SDK must not have in its module graph.
NOT_FOR_SDK='^(github\.com/convokit/convo/(mirror|cmd/convo)|github\.com/spf13/(cobra|pflag)|golang\.org/x/term|github\.com/mattn/go-runewidth|github\.com/jackc/[^ ]*|modernc\.org/[^ ]*|github\.com/inconshreveable/mousetrap) '
# What a program importing the mirror must not have.
NOT_FOR_MIRROR='^(github\.com/convokit/convo/cmd/convo|github\.com/spf13/(cobra|pflag)|golang\.org/x/term|github\.com/mattn/go-runewidth|github\.com/inconshreveable/mousetrap) '

# The patterns themselves: each module below must be caught.
for m in github.com/jackc/pgx/v5 modernc.org/sqlite modernc.org/libc github.com/spf13/cobra \
	github.com/spf13/pflag golang.org/x/term github.com/mattn/go-runewidth github.com/convokit/convo/cmd/convo; do
	echo "$m v1.0.0" | grep -qE "$NOT_FOR_SDK" || { echo "NOT_FOR_SDK misses $m"; exit 1; }
	case $m in github.com/jackc/* | modernc.org/*) continue ;; esac
	echo "$m v1.0.0" | grep -qE "$NOT_FOR_MIRROR" || { echo "NOT_FOR_MIRROR misses $m"; exit 1; }
done
echo "github.com/convokit/convo/mirror v1.0.0" | grep -qE "$NOT_FOR_SDK" || { echo "NOT_FOR_SDK misses the mirror"; exit 1; }

CACHE=$(go env GOMODCACHE)
UPSTREAM=$(go env GOPROXY)
TMP=$(mktemp -d)
cleanup() {
	# The module cache's files are read-only.
	chmod -R u+w "$TMP" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

step() { printf -- '-- %s\n' "$*"; }

step "the working tree's files, at $VERSION"
mkdir -p "$TMP/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and new files, not ignored ones (binaries, profiles), as a
	# tag of this tree would hold them; files deleted but not yet removed
	# from git are left out.
	git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
		[ -f "$f" ] || continue
		mkdir -p "$TMP/src/$(dirname "$f")"
		cp -p "$f" "$TMP/src/$f"
	done
else
	tar -C "$ROOT" --exclude=.git -cf - . | tar -C "$TMP/src" -xf -
fi
rm -f "$TMP/src/go.work" "$TMP/src/go.work.sum"
for m in "${MODULES[@]}"; do
	dir=${m#*=}
	for other in "${MODULES[@]}"; do
		path=${other%%=*}
		[ "$other" = "$m" ] && continue
		if go mod edit -json "$TMP/src/$dir/go.mod" | grep -q "\"Path\": \"$path\""; then
			go mod edit -require="$path@$VERSION" "$TMP/src/$dir/go.mod"
		fi
	done
done

step "the local proxy"
args=()
for m in "${MODULES[@]}"; do args+=("${m%%=*}=$TMP/src/${m#*=}"); done
(cd scripts/modproxy && GOWORK=off GOFLAGS=-mod=readonly go run . -dir "$TMP/proxy" -version "$VERSION" "${args[@]}")
find "$TMP/proxy" -type f | sed "s|^$TMP/proxy/||" | sort

export GOWORK=off GOFLAGS=-mod=mod
export GOPROXY="file://$TMP/proxy,file://$CACHE/cache/download,$UPSTREAM"
# GOPRIVATE and GONOPROXY emptied: a setting of the caller's would send our
# modules to their repository instead of the local proxy.
export GONOSUMDB=github.com/convokit GOPRIVATE= GONOPROXY=
export GOMODCACHE="$TMP/modcache" GOBIN="$TMP/bin"

step "each module alone is tidy and verified"
# Tidy may add the checksums of the other modules at $VERSION to go.sum
# (a release commit adds them for the versions it requires); any other
# change means a go.mod or go.sum of the working tree is not tidy.
for m in "${MODULES[@]}"; do
	dir=$TMP/src/${m#*=}
	cp "$dir/go.mod" "$TMP/go.mod.before"
	cp "$dir/go.sum" "$TMP/go.sum.before" 2>/dev/null || : >"$TMP/go.sum.before"
	(cd "$dir" && go mod tidy && go mod verify >/dev/null)
	if ! diff -u "$TMP/go.mod.before" "$dir/go.mod"; then
		echo "${m%%=*}: go.mod is not tidy"
		exit 1
	fi
	untidy=$(diff "$TMP/go.sum.before" "$dir/go.sum" | grep '^[<>]' | grep -v "^> github.com/convokit/convo[/ ]" || true)
	if [ -n "$untidy" ]; then
		printf '%s\n' "$untidy"
		echo "${m%%=*}: go.sum is not tidy"
		exit 1
	fi
	echo "${m%%=*}: tidy, verified"
done

step "go install github.com/convokit/convo/cmd/convo@$VERSION"
mkdir "$TMP/user"
cd "$TMP/user"
go mod init example.com/user >/dev/null 2>&1
go install "github.com/convokit/convo/cmd/convo@$VERSION"
"$GOBIN/convo" version

# importer PKG EXPR FORBIDDEN: in a new module of its own, go get PKG at
# $VERSION, build a program that prints PKG's EXPR, and fail when its module
# graph has a module FORBIDDEN matches.
importer() {
	local pkg=$1 expr=$2 forbidden=$3 dir
	step "go get $pkg@$VERSION"
	dir=$(mktemp -d "$TMP/user-XXXX")
	cd "$dir"
	go mod init example.com/user >/dev/null 2>&1
	go get "$pkg@$VERSION"
	cat >main.go <<GO
package main

import (
	"fmt"

	"$pkg"
)

func main() { fmt.Println($expr) }
GO
	go mod tidy
	go build ./...
	go list -m all >"$dir/modules"
	cat "$dir/modules"
	echo "$(wc -l <"$dir/modules") modules"
	if grep -E "$forbidden" "$dir/modules"; then
		echo "a program importing $pkg has the modules above in its graph"
		exit 1
	fi
}

importer github.com/convokit/convo convo.Version "$NOT_FOR_SDK"
importer github.com/convokit/convo/mirror mirror.SchemaVersion "$NOT_FOR_MIRROR"

step "ok"
