#!/bin/sh
# Runs every content-format fuzz target for 1,000,000 executions and keeps
# libFuzzer's summary lines (used to fill docs/fuzzing.md).
set -u
cd "$(dirname "$0")"
for t in text opaque tlv senml_json senml_cbor lwm2m_cbor lwm2m_json link_format; do
    mkdir -p corpus/$t
    cargo +nightly fuzz run -O $t corpus/$t -- -runs=1000000 -max_len=4096 > logs/$t.log 2>&1
    echo "$t exit=$? $(grep -E '^Done|stat::number_of_executed_units' logs/$t.log | tr '\n' ' ')"
done
