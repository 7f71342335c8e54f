#!/bin/sh
# NeonHub's container entrypoint (also usable on a plain host, from the project directory).
#
#   web [gunicorn options]   gunicorn with neonhub/gunicorn_conf.py (binds 0.0.0.0:$PORT when
#                            PORT is set, as the image does; 127.0.0.1:8000 otherwise)
#   worker [options]         manage.py qcluster: never migrates (run `migrate` first)
#   migrate [options]        manage.py migrate --noinput
#   manage COMMAND [...]     any manage.py command (createorg, createapikey, backup, ...)
#   health [check]           probe this host's web server: /healthz?check=ready by default
#   anything else            run as given (a shell, for instance)
#
# Every command but `health` and the last first waits up to NEONHUB_WAIT_FOR_DB_SECONDS (60)
# for the database to answer, so the containers may start in any order.
set -eu

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"

wait_for_database() {
    seconds="${NEONHUB_WAIT_FOR_DB_SECONDS:-60}"
    if ! report=$("$PYTHON" manage.py healthcheck --check database --wait "$seconds" 2>&1); then
        echo "$report" >&2
        echo "entrypoint: the database did not answer within $seconds s" >&2
        exit 1
    fi
}

command="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$command" in
    web)
        wait_for_database
        exec "$PYTHON" -m gunicorn -c python:neonhub.gunicorn_conf "$@" neonhub.wsgi
        ;;
    worker)
        wait_for_database
        exec "$PYTHON" manage.py qcluster "$@"
        ;;
    migrate)
        wait_for_database
        exec "$PYTHON" manage.py migrate --noinput "$@"
        ;;
    manage)
        wait_for_database
        exec "$PYTHON" manage.py "$@"
        ;;
    health)
        exec "$PYTHON" deploy/healthcheck.py "$@"
        ;;
    *)
        exec "$command" "$@"
        ;;
esac
