//! `dryfilm render SNAPSHOT [--out DIR] [--px-per-um F] [--slice xz:0.5 ...] [--gif SNAP2 ...]`:
//! cross-sections, solver maps, a stage sequence and 3D exports from saved snapshots, without
//! re-simulating.
//!
//! With `--gif`, SNAPSHOT is the first frame and the snapshots after `--gif` follow in the order
//! given; the last one is treated as the finished film (sections, maps and exports are drawn from
//! it). Without `--gif`, everything is drawn from SNAPSHOT.

use anyhow::Context;
use dryfilm_sim::render::{self, MapInputs, RenderOptions, SliceSpec};
use dryfilm_sim::snapshot::Snapshot;
use std::path::PathBuf;

/// Arguments of `dryfilm render`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Snapshot file (`*.snap.json.gz`) to draw.
    pub snapshot: PathBuf,
    /// Output directory (created if missing).
    #[arg(long, default_value = "render")]
    pub out: PathBuf,
    /// Image resolution, px/µm, in [0.5, 50].
    #[arg(long, default_value_t = 4.0)]
    pub px_per_um: f64,
    /// Slice as PLANE:FRACTION (xz, yz or xy; fraction of the box along the normal, in [0, 1]).
    /// Repeatable. Default: xz:0.5, yz:0.5 and xy:0.5.
    #[arg(long = "slice")]
    pub slices: Vec<SliceSpec>,
    /// Further snapshots (later stages) for a stage sequence and an animated GIF.
    #[arg(long, num_args = 1..)]
    pub gif: Vec<PathBuf>,
    /// Solver results to map: JSON of `MapInputs` (`potential_v`, `particle_cluster`,
    /// `fibril_cluster`, `spanning_clusters`).
    #[arg(long)]
    pub maps: Option<PathBuf>,
    /// Half-thickness of the slab whose fibrils are drawn on a slice, µm.
    #[arg(long, default_value_t = 0.5)]
    pub fibril_slab_um: f64,
    /// Voxel edge of the exported phase volume, µm.
    #[arg(long, default_value_t = 0.5)]
    pub voxel_um: f64,
    /// Skip the VTK/TIFF/NPY exports.
    #[arg(long)]
    pub no_exports: bool,
}

/// Entry point of `dryfilm render`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut paths = vec![args.snapshot.clone()];
    paths.extend(args.gif.iter().cloned());
    let snaps: Vec<Snapshot> = paths
        .iter()
        .map(|p| Snapshot::load(p).with_context(|| format!("loading snapshot {}", p.display())))
        .collect::<anyhow::Result<_>>()?;
    let maps: Option<MapInputs> = match &args.maps {
        None => None,
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("parsing map inputs {}", p.display()))?,
            )
        }
    };
    let mut opts = RenderOptions::from_fractions(args.px_per_um, &[0.5]);
    if !args.slices.is_empty() {
        opts.slices = args.slices.clone();
    }
    opts.fibril_slab_um = args.fibril_slab_um;
    opts.voxel_um = args.voxel_um;
    opts.exports = !args.no_exports;
    opts.gif = !args.gif.is_empty();
    let refs: Vec<&Snapshot> = snaps.iter().collect();
    let written = render::render_default_set(&refs, maps.as_ref(), &opts, &args.out)
        .with_context(|| format!("rendering into {}", args.out.display()))?;
    for p in &written {
        println!("{}", p.display());
    }
    Ok(())
}
