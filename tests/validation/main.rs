//! The validation tier: the model's behaviour on whole films, in a release build (minutes per
//! test). Built only with the `validation` feature; `bash tools/validate.sh` runs it. It holds the
//! property trends across PTFE loadings on the calibration films, the property checks of the
//! process stages on a small film, and the golden fingerprints checked again in release (they
//! must equal the debug build's, bit for bit). docs/testing.md
//! lists the tiers and their times.

#[path = "../integration/golden.rs"]
mod golden;
mod pellet;
mod process_physics;
mod property_trends;
mod thickness;
