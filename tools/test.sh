#!/usr/bin/env bash
# The project's whole test suite: installs what the tests need beyond the Rust toolchain (Python
# readers for the export read-back tests; the Slurm round-trip test installs and starts its own
# local Slurm through tools/slurm/start.sh), then runs every Rust test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f tools/install-test-deps.sh ]; then
    sh tools/install-test-deps.sh
fi
cargo fmt --all --check
cargo test --workspace --all-targets --no-fail-fast "$@"
# The property-trend test runs whole calibration films; it is release-only (ignored in debug).
cargo test --release --test property_trends "$@"
