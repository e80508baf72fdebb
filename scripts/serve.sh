#!/usr/bin/env bash
# Serve a class: N Streamlit processes behind Debian's nginx, on one port (default 8501).
#
# Usage: scripts/serve.sh [N]            (N processes, default 2; about one per CPU core)
# Environment (all optional):
#   PUNKLAB_LISTEN        where nginx listens: a port or address:port (default 8501)
#   PUNKLAB_BACKEND_PORT  the first process's port; the others follow (default 8601)
#   PUNKLAB_RUN_DIR       folder for nginx's config, pid files and logs (default: a new temp dir)
#   STREAMLIT_SERVER_COOKIE_SECRET  shared by the processes (default: a random one per start)
# Ctrl-C (or SIGTERM) stops nginx and every process. A process that dies leaves the others
# serving: nginx sends its users to another process, where their page starts afresh.
set -euo pipefail
cd "$(dirname "$0")/.."

count="${1:-2}"
if ! [[ "$count" =~ ^[0-9]+$ ]] || ((count < 1 || count > 64)); then
    echo "usage: scripts/serve.sh [N]   (N = how many app processes, 1 to 64; got '$count')" >&2
    exit 2
fi
listen="${PUNKLAB_LISTEN:-8501}"
first_port="${PUNKLAB_BACKEND_PORT:-8601}"
nginx=$(PATH="$PATH:/usr/sbin:/sbin" command -v nginx || true)
if [ -z "$nginx" ]; then
    echo "nginx is not installed. On Debian or Ubuntu: sudo apt-get install nginx" >&2
    echo "(only the binary is used: the system's nginx service may stay stopped)." >&2
    exit 1
fi
scripts/setup.sh requirements.txt

run_dir="${PUNKLAB_RUN_DIR:-$(mktemp -d -t punklab-serve.XXXXXX)}"
mkdir -p "$run_dir"/tmp
# Streamlit signs its XSRF cookie with this secret: one secret for all processes keeps
# uploads working for a browser that nginx has moved to another process.
export STREAMLIT_SERVER_COOKIE_SECRET="${STREAMLIT_SERVER_COOKIE_SECRET:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}"

pids=()
stop() {
    trap - INT TERM EXIT
    echo "Stopping nginx and the app processes…" >&2
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

upstreams=""
ports=()
for ((k = 0; k < count; k++)); do
    port=$((first_port + k))
    ports+=("$port")
    upstreams+="server 127.0.0.1:$port max_fails=1 fail_timeout=10s; "
    # The same command as scripts/app.sh, headless and reachable only through nginx.
    .venv/bin/streamlit run app.py --server.headless=true --server.address=127.0.0.1 \
        --server.port="$port" >"$run_dir/streamlit-$port.log" 2>&1 &
    pids+=("$!")
    echo "$!" >"$run_dir/streamlit-$port.pid"
done

# nginx as root hands its workers to an unprivileged user, which must write the temp folders.
user_line=""
if [ "$(id -u)" = 0 ]; then
    worker=$(id -u www-data >/dev/null 2>&1 && echo www-data || echo nobody)
    user_line="user $worker;"
    chown "$worker" "$run_dir/tmp"
fi
sed -e "s|\${PUNKLAB_PORT}|$listen|" -e "s|\${PUNKLAB_UPSTREAMS}|$upstreams|" \
    deploy/punklab.conf.template >"$run_dir/punklab.conf"
cat >"$run_dir/nginx.conf" <<CONF
$user_line
worker_processes 1;
pid $run_dir/nginx.pid;
error_log $run_dir/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log $run_dir/nginx-access.log;
    client_body_temp_path $run_dir/tmp/body;
    proxy_temp_path $run_dir/tmp/proxy;
    fastcgi_temp_path $run_dir/tmp/fastcgi;
    uwsgi_temp_path $run_dir/tmp/uwsgi;
    scgi_temp_path $run_dir/tmp/scgi;
    include $run_dir/punklab.conf;
}
CONF
"$nginx" -t -q -p "$run_dir" -e "$run_dir/nginx-error.log" -c "$run_dir/nginx.conf"

# Wait for every process's health check before opening the door.
for port in "${ports[@]}"; do
    for ((tries = 0; ; tries++)); do
        if .venv/bin/python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/_stcore/health', timeout=2)" 2>/dev/null; then
            break
        fi
        if ((tries > 240)) || ! kill -0 "${pids[$((port - first_port))]}" 2>/dev/null; then
            echo "The app process on port $port did not start; its log ($run_dir/streamlit-$port.log):" >&2
            tail -20 "$run_dir/streamlit-$port.log" >&2
            exit 1
        fi
        sleep 0.5
    done
done
"$nginx" -p "$run_dir" -e "$run_dir/nginx-error.log" -c "$run_dir/nginx.conf" -g "daemon off;" &
nginx_pid=$!
pids+=("$nginx_pid")
echo "Punk Lab: http://localhost:${listen##*:} ($count processes on ports ${ports[0]}–${ports[-1]}; logs in $run_dir). Ctrl-C stops." >&2

# Serve until nginx stops or a signal arrives; a dead app process only gets a line in the log.
while kill -0 "$nginx_pid" 2>/dev/null; do
    wait -n || true
    for ((k = 0; k < count; k++)); do
        if [ -n "${pids[$k]}" ] && ! kill -0 "${pids[$k]}" 2>/dev/null; then
            echo "App process on port ${ports[$k]} stopped: its sessions move to the others." >&2
            pids[$k]=""
        fi
    done
done
echo "nginx stopped ($run_dir/nginx-error.log)." >&2
exit 1
