#!/bin/sh
# Installs the service into a virtualenv, in two steps so that a container build keeps the
# dependencies' layer while only the code changes:
#   install.sh dependencies VENV  a new virtualenv with the runtime dependencies only, exactly as
#                                 requirements-runtime.lock pins them, every hash checked
#   install.sh service VENV       the service itself, without dependencies (all installed above)
# Run it from a folder holding requirements-runtime.lock and, for `service`, pyproject.toml,
# README.md and server/. The Dockerfile's build stage runs both steps; tests/test_container.py
# runs them too, as the Dockerfile names them, in a fresh virtualenv. UV is the uv to use
# (default: the one on PATH), PYTHON the Python of the new virtualenv (default: python3).
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: install.sh dependencies|service VENV" >&2
    exit 2
fi
uv="${UV:-uv}"
venv="$2"
case "$1" in
    dependencies)
        "${PYTHON:-python3}" -m venv "$venv"
        "$uv" pip sync --python "$venv/bin/python" --require-hashes requirements-runtime.lock
        ;;
    service)
        "$uv" pip install --python "$venv/bin/python" --no-deps .
        ;;
    *)
        echo "install.sh: the step is dependencies or service; got '$1'" >&2
        exit 2
        ;;
esac
