#!/bin/sh
# The container's entry point. `serve` (the default command) first runs `python -m server
# migrate`, which holds the migration lock (a PostgreSQL advisory lock; a file lock beside a
# SQLite file) while it works: replicas that start together migrate one after the other, and
# all but the first find nothing to do. Then the server takes this process's place, so that it
# gets the container's signals. Any other command runs as given, e.g.
#   docker run --rm -e DATABASE_URL=… IMAGE python -m server keys create --role admin --name ops
set -eu

if [ "${1:-}" = "serve" ]; then
    shift
    python -m server migrate
    exec python -m server serve "$@"
fi
exec "$@"
