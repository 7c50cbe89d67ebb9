//! 3D exports that ParaView (and meshio, VisIt, ...) open: legacy-ASCII VTK files.
//!
//! - `particles.vtk`: an unstructured grid of one `VTK_VERTEX` cell per particle; point data
//!   `radius` (m), `phase` (0 = NPS, 1 = PTFE), `cluster_id` (PTFE cluster, −1 = none) and `stress`
//!   (the per-particle stress tensor from `particles.stress`, Pa, as a symmetric 3×3 tensor). In
//!   ParaView use the Point Gaussian representation (or Glyph → Sphere scaled by `radius`).
//! - `fibrils.vtk`: an unstructured grid of one `VTK_LINE` cell (a two-point polyline) per fibril,
//!   from anchor A to anchor B at its minimum image (so a fibril crossing a periodic face sticks
//!   out of the box rather than spanning it); cell data `radius` (m), `tension` (N),
//!   `rest_length` (m), `state` (0 intact, 1 broken, 2 detached) and `cluster_id`. Use the Tube
//!   filter scaled by `radius`.
//! - `phase.vtk`: the voxelized phase volume as image data (`STRUCTURED_POINTS`, one cell per
//!   voxel, cell data `phase`), written by [`volume_vtk`]; the same volume as `phase.tif`
//!   (multi-page TIFF stack, one uint8 page per z layer) and `phase.npy` (uint8, shape
//!   `[nz, ny, nx]`), written by the voxel solver's [`crate::volume_io`]. The volume is the one the
//!   voxel conductivity solver uses ([`voxelize`]), codes 0 pore, 1 NPS, 2 PTFE.
//!
//! Coordinates are in metres (SI, like the snapshot). Numbers are written with Rust's shortest
//! round-trip formatting, so a correctly rounding reader recovers the f64 values exactly. The legacy format version
//! 4.2 is used for the widest reader support.

use super::RenderError;
use crate::snapshot::{FibrilState, Phase, Snapshot};
use crate::solvers::voxel::{voxelize, Volume};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Writes an export's text (for example [`particles_vtk`] or [`fibrils_vtk`]) to `path`.
///
/// # Errors
/// [`RenderError::Io`] naming the path.
pub fn write_file(path: &Path, text: &str) -> Result<(), RenderError> {
    std::fs::write(path, text).map_err(crate::fileio::at::<RenderError>(path))
}

fn header(title: &str, snap: &Snapshot) -> String {
    // The title line may not contain newlines and is at most 256 characters.
    let t: String = format!(
        "dryfilm {title}: scenario {} stage {} seed {}",
        snap.scenario, snap.stage, snap.seed
    )
    .chars()
    .filter(|c| *c != '\n' && *c != '\r')
    .take(255)
    .collect();
    format!("# vtk DataFile Version 4.2\n{t}\nASCII\nDATASET UNSTRUCTURED_GRID\n")
}

fn cluster_of(v: &[Option<u32>], k: usize) -> i64 {
    v.get(k).copied().flatten().map(|c| c as i64).unwrap_or(-1)
}

/// Text of `particles.vtk` (see the module docs). `particle_cluster` may be empty.
pub fn particles_vtk(snap: &Snapshot, particle_cluster: &[Option<u32>]) -> String {
    let p = &snap.particles;
    let n = p.pos.len();
    let mut s = header("particles", snap);
    // `write!` into a String cannot fail.
    let _ = writeln!(s, "POINTS {n} double");
    for q in &p.pos {
        let _ = writeln!(s, "{:e} {:e} {:e}", q[0], q[1], q[2]);
    }
    let _ = writeln!(s, "CELLS {n} {}", 2 * n);
    for i in 0..n {
        let _ = writeln!(s, "1 {i}");
    }
    let _ = writeln!(s, "CELL_TYPES {n}");
    for _ in 0..n {
        s.push_str("1\n");
    }
    let _ = writeln!(s, "POINT_DATA {n}");
    s.push_str("SCALARS radius double 1\nLOOKUP_TABLE default\n");
    for r in &p.radius {
        let _ = writeln!(s, "{r:e}");
    }
    s.push_str("SCALARS phase int 1\nLOOKUP_TABLE default\n");
    for ph in &p.phase {
        s.push_str(match ph {
            Phase::Nps => "0\n",
            Phase::Ptfe => "1\n",
        });
    }
    s.push_str("SCALARS cluster_id int 1\nLOOKUP_TABLE default\n");
    for i in 0..n {
        let _ = writeln!(s, "{}", cluster_of(particle_cluster, i));
    }
    s.push_str("TENSORS stress double\n");
    for i in 0..n {
        // Stored as xx, yy, zz, xy, xz, yz; missing entries are written as zero.
        let t = p.stress.get(i).copied().unwrap_or([0.0; 6]);
        let _ = writeln!(
            s,
            "{:e} {:e} {:e}\n{:e} {:e} {:e}\n{:e} {:e} {:e}\n",
            t[0], t[3], t[4], t[3], t[1], t[5], t[4], t[5], t[2]
        );
    }
    s
}

/// Text of `fibrils.vtk` (see the module docs). `fibril_cluster` may be empty. Fibrils anchored
/// to missing particles are skipped (the snapshot check rejects them before this is called).
pub fn fibrils_vtk(snap: &Snapshot, fibril_cluster: &[Option<u32>]) -> String {
    let np = snap.particles.pos.len();
    let kept: Vec<usize> = (0..snap.fibrils.len())
        .filter(|&k| {
            let f = &snap.fibrils[k];
            (f.a.particle as usize) < np && (f.b.particle as usize) < np
        })
        .collect();
    let m = kept.len();
    let mut s = header("fibrils", snap);
    let _ = writeln!(s, "POINTS {} double", 2 * m);
    for &k in &kept {
        let f = &snap.fibrils[k];
        let a = snap.anchor_world(&f.a);
        let b0 = snap.anchor_world(&f.b);
        let d = snap.sim_box.delta(b0, a);
        let _ = writeln!(s, "{:e} {:e} {:e}", a[0], a[1], a[2]);
        let _ = writeln!(s, "{:e} {:e} {:e}", a[0] + d[0], a[1] + d[1], a[2] + d[2]);
    }
    let _ = writeln!(s, "CELLS {m} {}", 3 * m);
    for c in 0..m {
        let _ = writeln!(s, "2 {} {}", 2 * c, 2 * c + 1);
    }
    let _ = writeln!(s, "CELL_TYPES {m}");
    for _ in 0..m {
        s.push_str("3\n");
    }
    let _ = writeln!(s, "CELL_DATA {m}");
    let scalar = |s: &mut String, name: &str, f: &dyn Fn(usize) -> f64| {
        let _ = writeln!(s, "SCALARS {name} double 1\nLOOKUP_TABLE default");
        for &k in &kept {
            let _ = writeln!(s, "{:e}", f(k));
        }
    };
    scalar(&mut s, "radius", &|k| snap.fibrils[k].radius);
    scalar(&mut s, "tension", &|k| snap.fibrils[k].tension);
    scalar(&mut s, "rest_length", &|k| snap.fibrils[k].rest_length);
    s.push_str("SCALARS state int 1\nLOOKUP_TABLE default\n");
    for &k in &kept {
        s.push_str(match snap.fibrils[k].state {
            FibrilState::Intact => "0\n",
            FibrilState::Broken => "1\n",
            FibrilState::Detached => "2\n",
        });
    }
    s.push_str("SCALARS cluster_id int 1\nLOOKUP_TABLE default\n");
    for &k in &kept {
        let _ = writeln!(s, "{}", cluster_of(fibril_cluster, k));
    }
    s
}

/// Text of a voxel phase volume as legacy VTK image data: `dims = [nx, ny, nz]` voxels of edge
/// `voxel_size_m` (m) from `origin_m` (the corner of voxel 0), `data` one phase code per voxel with
/// x fastest, then y, then z (VTK's order). Cell data `phase`.
pub fn volume_vtk(
    dims: [usize; 3],
    data: &[u8],
    voxel_size_m: f64,
    origin_m: [f64; 3],
    title: &str,
) -> Result<String, RenderError> {
    let n = dims[0] * dims[1] * dims[2];
    if data.len() != n {
        return Err(RenderError::Volume(format!(
            "{} voxels for dims {dims:?} ({n})",
            data.len()
        )));
    }
    let t: String = title
        .chars()
        .filter(|c| *c != '\n' && *c != '\r')
        .take(255)
        .collect();
    let mut s = format!("# vtk DataFile Version 4.2\n{t}\nASCII\nDATASET STRUCTURED_POINTS\n");
    let _ = writeln!(
        s,
        "DIMENSIONS {} {} {}",
        dims[0] + 1,
        dims[1] + 1,
        dims[2] + 1
    );
    let _ = writeln!(
        s,
        "ORIGIN {:e} {:e} {:e}",
        origin_m[0], origin_m[1], origin_m[2]
    );
    let _ = writeln!(
        s,
        "SPACING {voxel_size_m:e} {voxel_size_m:e} {voxel_size_m:e}"
    );
    let _ = writeln!(s, "CELL_DATA {n}");
    s.push_str("SCALARS phase unsigned_char 1\nLOOKUP_TABLE default\n");
    // One row of x per line; codes are small integers, written without per-value allocation.
    s.reserve(data.len() * 4);
    let table: Vec<String> = (0..=255u8).map(|v| v.to_string()).collect();
    for row in data.chunks(dims[0].max(1)) {
        for (k, &v) in row.iter().enumerate() {
            if k > 0 {
                s.push(' ');
            }
            s.push_str(&table[v as usize]);
        }
        s.push('\n');
    }
    Ok(s)
}

/// Write the voxel phase volume `vol` (from [`voxelize`], codes [`crate::solvers::voxel::PORE`],
/// [`crate::solvers::voxel::NPS`], [`crate::solvers::voxel::PTFE`]) into `out_dir` as
/// `phase.vtk` image data (origin at the box corner `(0, 0, z_bottom_m)`), `phase.tif` (a
/// multi-page TIFF stack, one 8-bit page per z layer, [`crate::volume_io::write_tiff_stack`]) and
/// `phase.npy` (uint8, shape `[nz, ny, nx]`, [`crate::volume_io::write_npy`]). Returns the paths
/// written.
pub fn write_volume_exports(
    vol: &Volume,
    z_bottom_m: f64,
    out_dir: &Path,
) -> Result<Vec<PathBuf>, RenderError> {
    // Volume dims are [nz, ny, nx] in C order (x fastest): VTK's point order with dims reversed.
    let dims = [vol.dims[2], vol.dims[1], vol.dims[0]];
    let p = out_dir.join("phase.vtk");
    let origin = [0.0, 0.0, z_bottom_m];
    let title = "dryfilm voxel phase volume";
    write_file(
        &p,
        &volume_vtk(dims, &vol.data, vol.voxel_size, origin, title)?,
    )?;
    let tif = out_dir.join("phase.tif");
    crate::volume_io::write_tiff_stack(vol, &tif)
        .map_err(|e| RenderError::Volume(format!("{}: {e}", tif.display())))?;
    let npy = out_dir.join("phase.npy");
    crate::volume_io::write_npy(vol, &npy)
        .map_err(|e| RenderError::Volume(format!("{}: {e}", npy.display())))?;
    Ok(vec![p, tif, npy])
}

/// Write the default 3D exports of `snap` into `out_dir`: `particles.vtk` and `fibrils.vtk`
/// (cluster ids from `maps` where given) and the phase volume voxelized at `voxel_size_m` (m) by
/// the voxel solver's own [`voxelize`] (see [`write_volume_exports`]). Returns the paths written.
pub fn write_default_exports(
    snap: &Snapshot,
    maps: Option<&super::MapInputs>,
    voxel_size_m: f64,
    out_dir: &Path,
) -> Result<Vec<PathBuf>, RenderError> {
    let empty = super::MapInputs::default();
    let m = maps.unwrap_or(&empty);
    let mut out = Vec::new();
    let p = out_dir.join("particles.vtk");
    write_file(&p, &particles_vtk(snap, &m.particle_cluster))?;
    out.push(p);
    let p = out_dir.join("fibrils.vtk");
    write_file(&p, &fibrils_vtk(snap, &m.fibril_cluster))?;
    out.push(p);
    let vol = voxelize(snap, voxel_size_m)?;
    out.extend(write_volume_exports(&vol, snap.sim_box.z_bottom, out_dir)?);
    Ok(out)
}
