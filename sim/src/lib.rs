//! # dryfilm-sim
//!
//! The simulation library of `dryfilm`: a mesoscale process simulator for dry-processed
//! Na3PS4 (NPS) / PTFE solid-electrolyte films.
//!
//! - [`geom`], [`numerics`]: the periodic box, the cell grid, union–find and conjugate gradients
//!   that every layer above uses.
//! - [`scenario`]: RON scenario files, parsed strictly and validated into SI-unit types.
//! - [`dem`]: the discrete-element core (pure contact kernels, SoA arrays, neighbour lists,
//!   velocity-Verlet integration) orchestrated by a bevy_ecs schedule.
//! - [`process`]: the process stages: particle generation, mixing, fibrillation, calendering,
//!   pellet pressing.
//! - [`snapshot`]: the versioned microstructure snapshot that solvers and renderers read.
//! - [`results`]: [`results::RunResult`], what a run reports (`result.json`).
//! - [`solvers`]: property solvers on snapshots: ionic conductivity (contact network and voxels),
//!   tensile strength, PTFE continuity and short-circuit risk.
//! - [`render`]: cross-section images and 3D exports.
//! - [`sweep`]: parameter sweeps, Slurm arrays, merging and plots.
//! - [`calibrate`]: fitting model parameters to measured points (bounded Nelder–Mead).
//! - [`par`]: thread-pool helpers (workers kept awake while a stepping loop runs).
//!
//! Units: SI inside (m, kg, s, N, Pa, S/m); scenario files use the units named in their fields.
#![warn(missing_docs)]

pub mod calibrate;
pub mod dem;
pub mod geom;
pub mod numerics;
pub mod par;
pub mod pipeline;
pub mod process;
pub mod render;
pub mod results;
pub mod scenario;
pub mod snapshot;
pub mod solvers;
pub mod sweep;
pub mod volume_io;
