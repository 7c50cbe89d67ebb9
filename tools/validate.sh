#!/usr/bin/env bash
# The validation tier (docs/testing.md): the model on whole films, in a release build: the property
# trends across PTFE loadings on the calibration films and the golden fingerprints again in release.
# Built only with the `validation` feature (tests/validation/). Extra arguments go to the test
# binary, e.g. `bash tools/validate.sh --ignored property_trends --nocapture`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --features validation --test validation -- "$@"
