#!/usr/bin/env bash
# Distributed mode on loopback: PostgreSQL (metadata), Redis (online features, model and
# score caches) and NATS JetStream (broker), with every stage in worker processes.
#
# What it does (tests/distributed.rs): writes a configuration naming the three servers,
# starts `mlpipe worker ingest,prepare` and `mlpipe worker train,evaluate,deploy,score,monitor`
# as separate processes, publishes a poison message and three datasets (breast-cancer, iris,
# wine), SIGKILLs the ingest+prepare worker as soon as its first raw batch is stored,
# starts two ingest+prepare workers (one queue group), waits for every dataset to have a
# live model, and verifies from the stores: one raw batch and one feature batch per
# dataset with exactly the CSV's rows, one model version per candidate, and only the
# poison message on the dead-letter topics. Each run uses its own PostgreSQL schema, Redis
# key prefix and NATS subject prefix, and removes them.
#
# Usage: examples/distributed/run.sh   (starts nothing; .ci/run starts the servers)
set -euo pipefail
cd "$(dirname "$0")/../.."
export MLPIPE_TEST_POSTGRES_URL=${MLPIPE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
export MLPIPE_TEST_REDIS_URL=${MLPIPE_TEST_REDIS_URL:-redis://127.0.0.1:6379}
export MLPIPE_TEST_NATS_URL=${MLPIPE_TEST_NATS_URL:-nats://127.0.0.1:4222}
exec cargo test -p mlpipe --test distributed -- --nocapture
