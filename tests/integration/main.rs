//! The default tier of the `dryfilm` crate's integration tests, in one test binary (one link
//! instead of one per file): solvers and renderers on hand-built snapshots, scenario and sweep
//! files, the command line, small end-to-end runs, the golden fingerprints of the shipped small
//! films, and the Slurm round trip. `cargo test` runs it; docs/testing.md lists the tiers.
//! Fixtures live in [`support`].

mod support;

mod calibrate_data;
mod calibrate_fake;
mod calibrate_optimizer;
mod check_sweeps;
mod continuity_ptfe;
mod determinism;
mod export_readback;
mod golden;
mod layering;
mod network_conductivity;
mod render_sections;
mod results_reference;
mod scenario_errors;
mod scenario_reference;
mod slurm_roundtrip;
mod sweep_engine;
mod tensile_test;
mod voxel_io;
mod voxel_solver;
