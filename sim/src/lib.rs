//! # dryfilm-sim
//!
//! The simulation library of `dryfilm`: a mesoscale process simulator for dry-processed
//! Na3PS4 (NPS) / PTFE solid-electrolyte films.
//!
//! ## Layers
//!
//! Each module uses only modules of the layers below it (a test, `tests/integration/layering.rs`,
//! checks every `crate::` path):
//!
//! 0. [`geom`] (periodic box, cell grid, packings), [`numerics`] (union–find, conjugate
//!    gradients), [`par`] (thread helpers, the one shared-mutable slice), [`results`] (what a run
//!    reports), [`fileio`] (gzip-transparent reading).
//! 1. [`scenario`] (RON scenario files, validated into SI units) and [`snapshot`] (the saved
//!    microstructure that solvers and renderers read).
//! 2. [`dem`]: the discrete-element core: pure contact, fibril and coverage laws, particle arrays,
//!    neighbour lists, the force loop and the bevy_ecs step schedule.
//! 3. [`process`]: the process on the DEM: set-up, mixing, fibrillation (the fibrillation law),
//!    calendering, pellet pressing, measurements and snapshots.
//! 4. [`solvers`]: property solvers on snapshots: ionic conductivity (contact network and
//!    voxels), tensile strength, PTFE continuity and short-circuit risk.
//! 5. [`volume_io`]: voxel volumes in and out (TIFF stacks, .npy, raw).
//! 6. [`pipeline`]: one run of a scenario into an output folder.
//! 7. [`render`] (cross-sections, maps and 3D exports) and [`sweep`] (parameter sweeps, Slurm
//!    arrays, merged tables and plots).
//! 8. [`calibrate`]: fitting model parameters to measured points.
//!
//! The `dryfilm` command line (`tools/dryfilm`) sits on top.
//!
//! Units: SI inside (m, kg, s, N, Pa, S/m); scenario files use the units named in their fields.
#![warn(missing_docs)]

pub mod calibrate;
pub mod dem;
pub mod fileio;
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
