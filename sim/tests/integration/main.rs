//! The default tier of `dryfilm-sim`'s integration tests, in one test binary: the DEM core
//! (physics against closed forms, engine invariants), fibril–fibril contact search, and the
//! process stages on small films. `cargo test` runs it; docs/testing.md lists the tiers.

mod dem_engine;
mod dem_physics;
mod fibril_contacts;
mod film_fixture;
mod process_stages;
