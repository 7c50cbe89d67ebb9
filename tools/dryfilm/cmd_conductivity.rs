//! `dryfilm conductivity`: voxel ionic-conductivity solve on a volume file, in TauFactor's
//! binary convention (see `docs/conductivity.md`), and generation of the anchor test volumes.

use anyhow::{bail, Context};
use dryfilm_sim::solvers::voxel::anchor::{anchor_volume, sha256_prefix, ANCHOR_CASES};
use dryfilm_sim::solvers::voxel::{solve, SolveOptions, VoxelResult};
use dryfilm_sim::volume_io::{read_volume, write_npy, ReadOptions};
use std::path::PathBuf;

/// Arguments of `dryfilm conductivity`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Volume file: multi-page TIFF (.tif/.tiff), NumPy .npy, or raw uint8 bytes (with --dims).
    #[arg(long, required_unless_present = "anchor_volumes")]
    pub volume: Option<PathBuf>,
    /// Flow axis: z (axis 0, TIFF page index), y (axis 1, rows) or x (axis 2, columns).
    #[arg(long, default_value = "z", value_parser = ["z", "y", "x", "0", "1", "2"])]
    pub axis: String,
    /// Conducting phase: the label value for uint8 data (default 1); for uint16/float data the
    /// value that becomes conducting (default: every nonzero value).
    #[arg(long)]
    pub phase: Option<f64>,
    /// Dims n0,n1,n2 of a raw file (C order, axis 0 first).
    #[arg(long, value_delimiter = ',', num_args = 3)]
    pub dims: Option<Vec<usize>>,
    /// Relative residual ‖b − A V‖/‖b‖ at which CG stops.
    #[arg(long, default_value_t = SolveOptions::default().rel_tol)]
    pub tol: f64,
    /// CG iteration cap.
    #[arg(long, default_value_t = SolveOptions::default().max_iter)]
    pub max_iter: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write the anchor test volumes (bench/conductivity-anchor.md) as `<name>_n<n>.npy` into this
    /// directory and exit.
    #[arg(long)]
    pub anchor_volumes: Option<PathBuf>,
    /// With --anchor-volumes: only this edge length (100 or 200; default both).
    #[arg(long)]
    pub anchor_n: Option<usize>,
}

/// Entry point of `dryfilm conductivity`.
pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(t) = args.threads {
        if t == 0 {
            bail!("--threads must be at least 1");
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .context("setting up the thread pool")?;
    }
    if let Some(dir) = &args.anchor_volumes {
        return write_anchor_volumes(dir, args.anchor_n);
    }
    let Some(path) = &args.volume else {
        bail!("--volume FILE is required")
    };
    let axis = match args.axis.as_str() {
        "z" | "0" => 0,
        "y" | "1" => 1,
        _ => 2,
    };
    let dims = match &args.dims {
        Some(d) if d.len() == 3 => Some([d[0], d[1], d[2]]),
        Some(d) => bail!("--dims needs three numbers n0,n1,n2, got {}", d.len()),
        None => None,
    };
    let loaded = read_volume(
        path,
        &ReadOptions {
            dims,
            phase: args.phase,
        },
    )
    .with_context(|| format!("reading volume {}", path.display()))?;
    let phase = if loaded.converted {
        1
    } else {
        match args.phase {
            None => 1,
            Some(p) if p.fract() == 0.0 && (0.0..=255.0).contains(&p) => p as u8,
            Some(p) => bail!("--phase {p}: uint8 labels are integers 0..=255"),
        }
    };
    let opts = SolveOptions {
        phase,
        axis,
        rel_tol: args.tol,
        max_iter: args.max_iter,
    };
    let r = solve(&loaded.volume, &opts)
        .with_context(|| format!("solving the conductivity of {}", path.display()))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&r, &loaded.volume.dims, axis))?
        );
    } else {
        print_text(&r, &loaded.volume.dims, axis, path);
    }
    if !r.converged {
        eprintln!(
            "warning: CG stopped at {} iterations with relative residual {:.2e} > --tol {:.1e}",
            r.iterations, r.residual, args.tol
        );
    }
    Ok(())
}

fn to_json(r: &VoxelResult, dims: &[usize; 3], axis: usize) -> serde_json::Value {
    serde_json::json!({
        "dims": dims,
        "axis": axis,
        "volume_fraction": r.volume_fraction,
        "d_eff": r.d_eff,
        "tortuosity_factor": r.tortuosity_factor,
        "percolates": r.percolates,
        "solve_seconds": r.solve_seconds,
        "iterations": r.iterations,
        "residual": r.residual,
        "converged": r.converged,
        "unknowns": r.unknowns,
    })
}

fn print_text(r: &VoxelResult, dims: &[usize; 3], axis: usize, path: &std::path::Path) {
    println!(
        "volume          {} ({} × {} × {}), flow along axis {axis}",
        path.display(),
        dims[0],
        dims[1],
        dims[2]
    );
    println!("ε               {:.6}", r.volume_fraction);
    match r.tortuosity_factor {
        Some(tau) if r.percolates => {
            println!("D_eff (D_rel)   {:.6}", r.d_eff);
            println!("τ               {tau:.6}");
        }
        _ => println!("D_eff (D_rel)   0 (does not percolate: no path from inlet to outlet)"),
    }
    println!(
        "iterations      {} (relative residual {:.2e})",
        r.iterations, r.residual
    );
    println!("time            {:.3} s", r.solve_seconds);
}

fn write_anchor_volumes(dir: &std::path::Path, only_n: Option<usize>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for c in ANCHOR_CASES
        .iter()
        .filter(|c| only_n.is_none_or(|n| n == c.n))
    {
        let vol =
            anchor_volume(c.name, c.n).context("anchor table names a volume with no recipe")?;
        let hash = sha256_prefix(&vol);
        if hash != c.sha256_prefix {
            bail!(
                "{} n={}: sha256 {hash} differs from the anchor table's {}",
                c.name,
                c.n,
                c.sha256_prefix
            );
        }
        let path = dir.join(format!("{}_n{}.npy", c.name, c.n));
        write_npy(&vol, &path).with_context(|| format!("writing {}", path.display()))?;
        println!(
            "{}  sha256 {hash}  reference D_rel {}",
            path.display(),
            c.d_rel
        );
    }
    Ok(())
}
