#!/usr/bin/env bash
# Starts the local services the tests talk to, when they are not already up:
# PostgreSQL 5432, Redis 6379, NATS (JetStream) 4222, RabbitMQ 5672 (guest/guest),
# MariaDB 3306 (root, database test), Mosquitto 1883. Idempotent.
set -euo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
    local name=$1 port=$2
    for _ in $(seq 1 120); do
        up "$port" && return 0
        sleep 0.5
    done
    echo "services: $name did not come up on 127.0.0.1:$port" >&2
    return 1
}

if ! up 5432; then
    echo "services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    wait_for PostgreSQL 5432
fi
if ! up 6379; then
    echo "services: starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for Redis 6379
fi
if ! up 4222; then
    echo "services: starting NATS"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
        -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
    wait_for NATS 4222
fi
if ! up 5672; then
    echo "services: starting RabbitMQ"
    rabbitmq-server -detached
    wait_for RabbitMQ 5672
fi
if ! up 3306; then
    echo "services: starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for MariaDB 3306
    mariadb -h 127.0.0.1 -u root -e "CREATE DATABASE IF NOT EXISTS test"
fi
if ! up 1883; then
    echo "services: starting Mosquitto"
    mosquitto -d -c /etc/mosquitto/mosquitto.conf
    wait_for Mosquitto 1883
fi
