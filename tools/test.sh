#!/usr/bin/env bash
# The project's whole test suite, both tiers (docs/testing.md). Installs what the tests need beyond
# the Rust toolchain (Python readers for the export read-back tests; the Slurm round-trip test
# installs and starts its own local Slurm through tools/slurm/start.sh), checks the formatting and
# the lints (`cargo clippy -D warnings`, validation tier included), then
#   1. the default tier: `cargo test --workspace --all-targets` (unit tests, small end-to-end
#      tests, the golden fingerprints, the Slurm round trip; about 5 minutes from a warm build);
#   2. the validation tier: `bash tools/validate.sh` (whole films in a release build).
# Extra arguments go to the default tier's `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f tools/install-test-deps.sh ]; then
    sh tools/install-test-deps.sh
fi
cargo fmt --all --check
cargo clippy --workspace --all-targets --features validation -- -D warnings
cargo test --workspace --all-targets --no-fail-fast "$@"
bash tools/validate.sh
