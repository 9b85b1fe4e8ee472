#!/usr/bin/env bash
# Make sure the local PostgreSQL, RabbitMQ and Redis answer; start them where installed.
set -u
pg_host=127.0.0.1; pg_port=5432; amqp_port=5672

answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for() {  # name host port seconds
  for _ in $(seq 1 "$4"); do answers "$2" "$3" && return 0; sleep 1; done
  echo "$1 is not answering on $2:$3" >&2; return 1
}

if ! answers $pg_host $pg_port; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  else
    echo "PostgreSQL is not running on $pg_host:$pg_port and is not installed here." >&2
    echo "Install it (apt install postgresql) or point FRONTDESK_PG_URL at one." >&2
    exit 1
  fi
  wait_for PostgreSQL $pg_host $pg_port 30 || exit 1
fi

if ! answers 127.0.0.1 $amqp_port; then
  if command -v rabbitmq-server >/dev/null 2>&1; then
    echo "starting RabbitMQ"
    rabbitmq-server -detached
    wait_for RabbitMQ 127.0.0.1 $amqp_port 60 || exit 1
    rabbitmqctl await_startup >/dev/null 2>&1 || true
  else
    echo "RabbitMQ is not running on 127.0.0.1:$amqp_port and is not installed here." >&2
    echo "Install it (apt install rabbitmq-server) or point FRONTDESK_AMQP_URL at one." >&2
    exit 1
  fi
fi

if ! answers 127.0.0.1 6379; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/frontdesk-redis.log
    wait_for Redis 127.0.0.1 6379 15 || exit 1
  fi
fi
