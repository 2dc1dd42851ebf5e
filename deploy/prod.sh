#!/usr/bin/env bash
# The production topology on one machine, without containers (`make prod-up` / `make prod-down`):
#
#   postgres   Debian's PostgreSQL, a cluster of its own in $PROD_DIR/pg on 127.0.0.1:$PROD_PG_PORT
#   code       the code location's gRPC server (`dagster code-server start`) on 127.0.0.1; it
#              loads sales_platform.definitions and runs the runs (one at a time, via the queue)
#   webserver  dagster-webserver against deploy/workspace.yaml on $PROD_HOST:$PROD_WEBSERVER_PORT
#   daemon     dagster-daemon run (schedules, sensors, the run queue, run monitoring)
#   dashboard  the Streamlit dashboard on $PROD_HOST:$PROD_DASHBOARD_PORT
#
# Usage: deploy/prod.sh up | down | status | start SERVICE... | stop SERVICE... | env
#
# Everything lives in $PROD_DIR (default .prod/): pg/ (the cluster), dagster_home/ (DAGSTER_HOME
# with deploy/dagster.production.yaml), run/*.pid, logs/*.log, and secrets.env (the database
# password, generated on the first `up`, mode 600). Each process is started in a session of its
# own; its pid is written to run/NAME.pid and `stop`/`down` signal that pid's process group only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROD_DIR=$(realpath -m "${PROD_DIR:-$ROOT/.prod}")
PROD_HOST=${PROD_HOST:-127.0.0.1}
PROD_PG_PORT=${PROD_PG_PORT:-5433}
PROD_GRPC_PORT=${PROD_GRPC_PORT:-4000}
PROD_WEBSERVER_PORT=${PROD_WEBSERVER_PORT:-3000}
PROD_DASHBOARD_PORT=${PROD_DASHBOARD_PORT:-8501}
# Services `up` starts, in order (`down` stops them in reverse).
PROD_SERVICES=${PROD_SERVICES:-postgres code webserver daemon dashboard}
# The Python environment with the project installed (the test passes its own).
BIN=${PROD_BIN:-$ROOT/.venv/bin}
# The OS user that runs PostgreSQL when this script runs as root (postgres refuses root).
PROD_PG_OS_USER=${PROD_PG_OS_USER:-postgres}

PGDATA_DIR=$PROD_DIR/pg
RUN_DIR=$PROD_DIR/run
LOG_DIR=$PROD_DIR/logs
SECRETS=$PROD_DIR/secrets.env

export DAGSTER_HOME=$PROD_DIR/dagster_home
export DAGSTER_PG_HOST=127.0.0.1
export DAGSTER_PG_PORT=$PROD_PG_PORT
export DAGSTER_PG_USER=${DAGSTER_PG_USER:-dagster}
export DAGSTER_PG_DB=${DAGSTER_PG_DB:-dagster}
export DAGSTER_GRPC_HOST=127.0.0.1
export DAGSTER_GRPC_PORT=$PROD_GRPC_PORT
# The DuckDB file of the runs and the dashboard, made absolute (every process starts in $ROOT).
SALES_DUCKDB_PATH=${SALES_DUCKDB_PATH:-data/sales.duckdb}
[[ $SALES_DUCKDB_PATH == /* ]] || SALES_DUCKDB_PATH=$ROOT/$SALES_DUCKDB_PATH
export SALES_DUCKDB_PATH

log() { echo "prod: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

pg_bin() {
	local initdb
	initdb=$(command -v initdb 2>/dev/null || true)
	if [[ -z $initdb ]]; then
		initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1 || true)
	fi
	[[ -n $initdb ]] || die "PostgreSQL's initdb not found: apt-get install -y postgresql"
	dirname "$(realpath "$initdb")"
}

# Run a command as the PostgreSQL OS user (only when this script runs as root).
as_pg() {
	if [[ $(id -u) == 0 ]]; then
		runuser -u "$PROD_PG_OS_USER" -- "$@"
	else
		"$@"
	fi
}

pid_of() { cat "$RUN_DIR/$1.pid" 2>/dev/null || true; }

alive() {
	local pid
	pid=$(pid_of "$1")
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

load_secrets() {
	if [[ -z ${DAGSTER_PG_PASSWORD:-} ]]; then
		if [[ ! -s $SECRETS ]]; then
			(
				umask 077
				echo "DAGSTER_PG_PASSWORD=$("$BIN/python" -c 'import secrets; print(secrets.token_hex(16))')" >"$SECRETS"
			)
		fi
		# shellcheck disable=SC1090
		source "$SECRETS"
	fi
	export DAGSTER_PG_PASSWORD
}

prepare() {
	mkdir -p "$RUN_DIR" "$LOG_DIR" "$DAGSTER_HOME" "$(dirname "$SALES_DUCKDB_PATH")"
	cp "$ROOT/deploy/dagster.production.yaml" "$DAGSTER_HOME/dagster.yaml"
	load_secrets
}

# Wait until `check` succeeds; fail with the log's tail when the process dies or time runs out.
wait_until() {
	local name=$1 timeout=$2
	shift 2
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		if [[ $name != postgres ]] && ! alive "$name"; then
			tail -n 40 "$LOG_DIR/$name.log" >&2 || true
			die "$name exited; its log is $LOG_DIR/$name.log"
		fi
		if ((SECONDS > deadline)); then
			tail -n 40 "$LOG_DIR/$name.log" >&2 || true
			die "$name not ready after ${timeout}s; its log is $LOG_DIR/$name.log"
		fi
		sleep 0.5
	done
}

http_ok() { curl -fsS -o /dev/null --max-time 5 "$1"; }

psql_dagster() {
	PGPASSWORD=$DAGSTER_PG_PASSWORD "$(pg_bin)/psql" -h 127.0.0.1 -p "$PROD_PG_PORT" \
		-U "$DAGSTER_PG_USER" -v ON_ERROR_STOP=1 -qtA "$@"
}

start_postgres() {
	local bin
	bin=$(pg_bin)
	if alive postgres; then
		log "postgres already running (pid $(pid_of postgres))"
		return
	fi
	if [[ ! -s $PGDATA_DIR/PG_VERSION ]]; then
		log "initialising a PostgreSQL cluster in $PGDATA_DIR"
		mkdir -p "$PGDATA_DIR"
		local pwfile=$PROD_DIR/.pwfile
		(
			umask 077
			printf '%s\n' "$DAGSTER_PG_PASSWORD" >"$pwfile"
		)
		if [[ $(id -u) == 0 ]]; then
			as_pg test -x "$PROD_DIR" ||
				die "$PROD_PG_OS_USER cannot reach $PROD_DIR: every folder above it must be searchable (chmod o+x)"
			chown "$PROD_PG_OS_USER" "$PGDATA_DIR" "$pwfile"
		fi
		chmod 700 "$PGDATA_DIR"
		as_pg "$bin/initdb" -D "$PGDATA_DIR" -U "$DAGSTER_PG_USER" --pwfile="$pwfile" \
			--auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$LOG_DIR/initdb.log" 2>&1 ||
			{
				rm -f "$pwfile"
				cat "$LOG_DIR/initdb.log" >&2
				die "initdb failed"
			}
		rm -f "$pwfile"
	fi
	touch "$LOG_DIR/postgres.log"
	[[ $(id -u) != 0 ]] || chown "$PROD_PG_OS_USER" "$LOG_DIR/postgres.log"
	# TCP on 127.0.0.1 only, no Unix socket (so no shared socket folder is needed).
	as_pg "$bin/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_DIR/postgres.log" -w -t 60 \
		-o "-h 127.0.0.1 -p $PROD_PG_PORT -k ''" start >/dev/null ||
		{
			tail -n 20 "$LOG_DIR/postgres.log" >&2
			die "PostgreSQL did not start"
		}
	head -n 1 "$PGDATA_DIR/postmaster.pid" >"$RUN_DIR/postgres.pid"
	if [[ -z $(psql_dagster -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DAGSTER_PG_DB'") ]]; then
		psql_dagster -d postgres -c "CREATE DATABASE \"$DAGSTER_PG_DB\""
	fi
	log "postgres up on 127.0.0.1:$PROD_PG_PORT (pid $(pid_of postgres))"
}

# Start a long-running process in a session of its own, from $ROOT, logging to logs/NAME.log.
spawn() {
	local name=$1
	shift
	if alive "$name"; then
		log "$name already running (pid $(pid_of "$name"))"
		return 1
	fi
	(cd "$ROOT" && exec setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null) &
	echo $! >"$RUN_DIR/$name.pid"
}

start_code() {
	spawn code "$BIN/dagster" code-server start -h 127.0.0.1 -p "$PROD_GRPC_PORT" \
		-m sales_platform.definitions --location-name sales_platform || return 0
	wait_until code 300 "$BIN/dagster" api grpc-health-check -h 127.0.0.1 -p "$PROD_GRPC_PORT"
	log "code location up on 127.0.0.1:$PROD_GRPC_PORT (pid $(pid_of code))"
}

start_webserver() {
	spawn webserver "$BIN/dagster-webserver" -h "$PROD_HOST" -p "$PROD_WEBSERVER_PORT" \
		-w "$ROOT/deploy/workspace.yaml" || return 0
	wait_until webserver 180 http_ok "http://127.0.0.1:$PROD_WEBSERVER_PORT/server_info"
	log "webserver up on http://$PROD_HOST:$PROD_WEBSERVER_PORT (pid $(pid_of webserver))"
}

start_daemon() {
	spawn daemon "$BIN/dagster-daemon" run -w "$ROOT/deploy/workspace.yaml" || return 0
	wait_until daemon 180 "$BIN/dagster-daemon" liveness-check
	log "daemon up (pid $(pid_of daemon))"
}

start_dashboard() {
	spawn dashboard "$BIN/streamlit" run dashboard/app.py --server.headless true \
		--server.address "$PROD_HOST" --server.port "$PROD_DASHBOARD_PORT" || return 0
	wait_until dashboard 120 http_ok "http://127.0.0.1:$PROD_DASHBOARD_PORT/_stcore/health"
	log "dashboard up on http://$PROD_HOST:$PROD_DASHBOARD_PORT (pid $(pid_of dashboard))"
}

# Stop by the recorded pid: SIGTERM to its process group (the code server's run subprocesses
# included), SIGKILL after a grace period. PostgreSQL gets SIGINT (fast shutdown) on its pid.
stop_one() {
	local name=$1 pid grace=${PROD_STOP_GRACE:-30}
	pid=$(pid_of "$name")
	if [[ -z $pid ]]; then
		return
	fi
	if kill -0 "$pid" 2>/dev/null; then
		if [[ $name == postgres ]]; then
			kill -INT "$pid"
		else
			kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
		fi
		local deadline=$((SECONDS + grace))
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
		if kill -0 "$pid" 2>/dev/null; then
			log "$name (pid $pid) did not stop in ${grace}s: SIGKILL"
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
		fi
		# What is left of its process group (children that ignored SIGTERM).
		[[ $name == postgres ]] || kill -KILL -- "-$pid" 2>/dev/null || true
		while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
		log "$name stopped (pid $pid)"
	fi
	rm -f "$RUN_DIR/$name.pid"
}

start_service() {
	case $1 in
	postgres | code | webserver | daemon | dashboard) "start_$1" ;;
	*) die "unknown service $1 (postgres code webserver daemon dashboard)" ;;
	esac
}

reversed() {
	local out=() s
	for s in "$@"; do out=("$s" "${out[@]}"); done
	echo "${out[@]}"
}

command=${1:-}
[[ $# -gt 0 ]] && shift
case $command in
up)
	prepare
	for service in $PROD_SERVICES; do start_service "$service"; done
	log "UI http://$PROD_HOST:$PROD_WEBSERVER_PORT  dashboard http://$PROD_HOST:$PROD_DASHBOARD_PORT  logs $LOG_DIR"
	;;
start)
	prepare
	for service in "$@"; do start_service "$service"; done
	;;
stop)
	for service in "$@"; do stop_one "$service"; done
	;;
down)
	# The daemon first (it dequeues runs), postgres last.
	# shellcheck disable=SC2046
	for service in $(reversed postgres code webserver daemon dashboard); do stop_one "$service"; done
	;;
status)
	for service in postgres code webserver daemon dashboard; do
		if alive "$service"; then echo "$service running (pid $(pid_of "$service"))"; else echo "$service stopped"; fi
	done
	;;
env)
	# The environment of `dagster` commands against this deployment, e.g.
	#   eval "$(deploy/prod.sh env)" && dagster job launch -w deploy/workspace.yaml -j sales_forecast_job \
	#     --tags "$(python -m sales_platform.partitions)"
	load_secrets
	for var in DAGSTER_HOME DAGSTER_PG_HOST DAGSTER_PG_PORT DAGSTER_PG_USER DAGSTER_PG_DB \
		DAGSTER_PG_PASSWORD DAGSTER_GRPC_HOST DAGSTER_GRPC_PORT SALES_DUCKDB_PATH; do
		printf 'export %s=%q\n' "$var" "${!var}"
	done
	;;
*)
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
