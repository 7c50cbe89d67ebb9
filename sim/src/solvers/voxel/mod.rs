//! Voxel ionic-conductivity solver and the voxel representation of a film.
//!
//! In scope:
//! - [`Volume`]: a labelled voxel grid (uint8 phase codes, C order, axis 0 = z = TIFF page index),
//!   and [`voxelize`], which rasterises a [`Snapshot`] onto it ([`PORE`], [`NPS`], [`PTFE`]).
//! - [`solve`]: the effective conductivity of one phase of a volume along an axis, in the
//!   convention of TauFactor's binary solver (Kench & Cooper, *SoftwareX* 14 (2021) 100650;
//!   Cooper et al., *SoftwareX* 5 (2016) 203): finite volumes, unit conductance between
//!   face-neighbouring conducting voxels, Dirichlet electrodes half a voxel outside the first and
//!   last layers, no flux through the side faces. See [`solver`] for the equations and numerics.
//! - [`anchor`]: the benchmark volumes of `bench/conductivity-anchor.md` (SplitMix64 recipe).
//!
//! Not in scope: reading and writing volume files (see [`crate::volume_io`]), multi-phase
//! conductivities (one conducting phase, everything else insulating), contact-resistance physics
//! (see [`crate::solvers::network`]).

pub mod anchor;
mod multigrid;
pub mod solver;

pub use solver::{solve, SolveOptions, VoxelResult};

use crate::snapshot::{FibrilState, Phase, Snapshot};
use rayon::prelude::*;

/// Phase code of empty space (pore) in a voxelised film.
pub const PORE: u8 = 0;
/// Phase code of Na3PS4 (the ionic conductor) in a voxelised film.
pub const NPS: u8 = 1;
/// Phase code of PTFE (source particles and fibrils) in a voxelised film.
pub const PTFE: u8 = 2;

/// Largest number of voxels [`voxelize`] will allocate (2³¹, i.e. 2 GiB of phase codes).
pub const MAX_VOXELS: usize = 1 << 31;

/// A voxel volume: one `u8` label per voxel.
///
/// Layout: C order, `dims = [n0, n1, n2]`, voxel `(i0, i1, i2)` at index `(i0 * n1 + i1) * n2 + i2`.
/// Axis 0 is "z" (through the film thickness; the page index of a TIFF stack); for a voxelised
/// snapshot axis 1 is y (TD) and axis 2 is x (MD).
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// Number of voxels along axes 0, 1, 2.
    pub dims: [usize; 3],
    /// Labels, `dims[0] * dims[1] * dims[2]` of them, C order.
    pub data: Vec<u8>,
    /// Edge length of a (cubic) voxel, m. Files that carry no size get 1.0.
    pub voxel_size: f64,
}

impl Volume {
    /// A volume of `dims` filled with `value`, voxel edge `voxel_size` (m).
    pub fn filled(dims: [usize; 3], value: u8, voxel_size: f64) -> Self {
        Self {
            dims,
            data: vec![value; dims[0] * dims[1] * dims[2]],
            voxel_size,
        }
    }

    /// Number of voxels.
    pub fn len(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    /// True if the volume holds no voxel.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Linear index of voxel `(i0, i1, i2)` (C order).
    #[inline]
    pub fn index(&self, i0: usize, i1: usize, i2: usize) -> usize {
        (i0 * self.dims[1] + i1) * self.dims[2] + i2
    }

    /// Label of voxel `(i0, i1, i2)`.
    #[inline]
    pub fn get(&self, i0: usize, i1: usize, i2: usize) -> u8 {
        self.data[self.index(i0, i1, i2)]
    }

    /// Fraction of voxels carrying label `value` (0 for an empty volume).
    pub fn fraction(&self, value: u8) -> f64 {
        if self.data.is_empty() {
            return 0.0;
        }
        let n = self.data.iter().filter(|&&v| v == value).count();
        n as f64 / self.data.len() as f64
    }

    /// Fraction of the voxels that are not [`PORE`] in each of `slabs` slabs of axis-0 layers
    /// (layer `k` of `n0` in slab `⌊k·slabs/n0⌋`), first to last, dimensionless: for a voxelised
    /// snapshot, the space the solid fills in each slab of the thickness, bottom to top (overlaps
    /// counted once). An empty slab (more slabs than layers) gives 0.
    pub fn solid_fraction_profile(&self, slabs: usize) -> Vec<f64> {
        let [n0, n1, n2] = self.dims;
        let layer = n1 * n2;
        let mut solid = vec![0usize; slabs];
        let mut total = vec![0usize; slabs];
        for k in 0..n0 {
            let s = k * slabs / n0;
            let cells = &self.data[k * layer..(k + 1) * layer];
            solid[s] += cells.iter().filter(|&&v| v != PORE).count();
            total[s] += layer;
        }
        solid
            .iter()
            .zip(&total)
            .map(|(&a, &t)| if t == 0 { 0.0 } else { a as f64 / t as f64 })
            .collect()
    }

    /// True if `data.len()` matches `dims`.
    pub fn is_consistent(&self) -> bool {
        self.dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) == Some(self.data.len())
    }

    /// Copy with axis `axis` moved to position 0 (the other two keep their order), so that a
    /// solve "along `axis`" becomes a solve along axis 0. `axis` ≥ 3 is treated as 0.
    pub fn with_axis_first(&self, axis: usize) -> Volume {
        if axis == 0 || axis >= 3 {
            return self.clone();
        }
        let [n0, n1, n2] = self.dims;
        let (new_dims, perm): ([usize; 3], [usize; 3]) = if axis == 1 {
            ([n1, n0, n2], [1, 0, 2])
        } else {
            ([n2, n0, n1], [2, 0, 1])
        };
        let mut data = vec![0u8; self.data.len()];
        let plane = new_dims[1] * new_dims[2];
        if plane > 0 {
            data.par_chunks_mut(plane).enumerate().for_each(|(a, out)| {
                for b in 0..new_dims[1] {
                    for c in 0..new_dims[2] {
                        let mut old = [0usize; 3];
                        old[perm[0]] = a;
                        old[perm[1]] = b;
                        old[perm[2]] = c;
                        out[b * new_dims[2] + c] = self.get(old[0], old[1], old[2]);
                    }
                }
            });
        }
        Volume {
            dims: new_dims,
            data,
            voxel_size: self.voxel_size,
        }
    }
}

/// Errors of the voxel module.
#[derive(Debug, thiserror::Error)]
pub enum VoxelError {
    /// The voxel size is not a positive finite length.
    #[error("voxel size {0} m is not a positive finite length")]
    BadVoxelSize(f64),
    /// The box is degenerate (non-finite or non-positive extent).
    #[error("simulation box {lx} × {ly} × {lz} m cannot be voxelised (extents must be positive)")]
    BadBox {
        /// x extent, m.
        lx: f64,
        /// y extent, m.
        ly: f64,
        /// z extent, m.
        lz: f64,
    },
    /// The grid would be larger than [`MAX_VOXELS`].
    #[error("grid {dims:?} has more than {max} voxels: choose a larger voxel size")]
    TooLarge {
        /// Requested dims.
        dims: [usize; 3],
        /// Limit.
        max: usize,
    },
    /// `data.len()` does not match `dims`.
    #[error("volume data holds {len} voxels but dims {dims:?} need {need}")]
    Inconsistent {
        /// Dims.
        dims: [usize; 3],
        /// Data length.
        len: usize,
        /// Product of dims (saturating).
        need: usize,
    },
    /// Flow axis outside 0..=2.
    #[error("flow axis {0} does not exist (0, 1 or 2)")]
    BadAxis(usize),
    /// Relative tolerance not in (0, 1).
    #[error("relative tolerance {0} must lie in (0, 1)")]
    BadTolerance(f64),
}

/// Number of voxels covering `len` with edge `h` (at least 1).
fn cells(len: f64, h: f64) -> usize {
    // A relative slack of 1e-9 keeps an exact multiple from gaining a sliver layer.
    ((len / h) * (1.0 - 1e-9)).ceil().max(1.0) as usize
}

/// A body to rasterise: sphere (`b == a`) or capsule (segment `a`–`b`), radius `r`, m.
#[derive(Clone, Copy)]
struct Body {
    a: [f64; 3],
    b: [f64; 3],
    r: f64,
}

/// Squared distance from `p` to the segment `a`–`b`, m².
fn dist2_segment(p: [f64; 3], a: [f64; 3], b: [f64; 3]) -> f64 {
    let ab = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    let ap = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
    let l2 = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2];
    let t = if l2 > 0.0 {
        ((ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let d = [ap[0] - t * ab[0], ap[1] - t * ab[1], ap[2] - t * ab[2]];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

/// Rasterise a snapshot onto a cubic voxel grid of edge `voxel_size` (m).
///
/// Grid: `dims = [nz, ny, nx]` with `nx = ⌈lx / h⌉`, `ny = ⌈ly / h⌉`, `nz = ⌈(z_top − z_bottom) / h⌉`;
/// voxel `(k, j, i)` has its centre at `x = (i + ½)h`, `y = (j + ½)h`, `z = z_bottom + (k + ½)h`
/// (when `lx` is not a multiple of `h` the last column reaches slightly past `lx`). A voxel takes
/// the label of the bodies containing its centre:
/// - [`NPS`] if inside an NPS sphere (periodic images in x and y are included);
/// - else [`PTFE`] if inside a PTFE source particle (sphere) or an intact fibril, rasterised as a
///   capsule of radius `max(r_f, h/2)` around the segment between its two anchor points
///   ([`Snapshot::anchor_world`], end B taken as the minimum image of A). Fibrils thinner than a
///   voxel thus still appear as a one-voxel thread (their volume is overestimated); broken and
///   detached fibrils are left out since the snapshot holds no geometry for their loose ends;
/// - else [`PORE`].
///
/// NPS takes precedence: where a PTFE body overlaps an NPS sphere (a fibril anchor on a grain
/// surface, a PTFE lump pressed against a grain) the voxel stays NPS, because PTFE is a soft
/// binder that fills the pores between the hard NPS grains rather than displacing them.
///
/// Deterministic and independent of the thread count: z-layers are filled in parallel with rayon,
/// each from its own list of bodies, and the labels are set (never accumulated).
pub fn voxelize(snap: &Snapshot, voxel_size: f64) -> Result<Volume, VoxelError> {
    let h = voxel_size;
    if !(h.is_finite() && h > 0.0) {
        return Err(VoxelError::BadVoxelSize(h));
    }
    let bx = snap.sim_box;
    let lz = bx.z_top - bx.z_bottom;
    if !(bx.lx.is_finite() && bx.ly.is_finite() && lz.is_finite())
        || bx.lx <= 0.0
        || bx.ly <= 0.0
        || lz <= 0.0
    {
        return Err(VoxelError::BadBox {
            lx: bx.lx,
            ly: bx.ly,
            lz,
        });
    }
    let dims = [cells(lz, h), cells(bx.ly, h), cells(bx.lx, h)];
    let total = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    match total {
        Some(t) if t <= MAX_VOXELS => {}
        _ => {
            return Err(VoxelError::TooLarge {
                dims,
                max: MAX_VOXELS,
            })
        }
    }

    let p = &snap.particles;
    let n = p.pos.len().min(p.radius.len()).min(p.phase.len());
    let mut nps = Vec::new();
    let mut ptfe = Vec::new();
    for i in 0..n {
        let r = p.radius[i];
        let c = p.pos[i];
        if !(r.is_finite() && r > 0.0 && c.iter().all(|v| v.is_finite())) {
            continue;
        }
        let body = Body { a: c, b: c, r };
        match p.phase[i] {
            Phase::Nps => nps.push(body),
            Phase::Ptfe => ptfe.push(body),
        }
    }
    for f in &snap.fibrils {
        if f.state != FibrilState::Intact {
            continue;
        }
        let (ia, ib) = (f.a.particle as usize, f.b.particle as usize);
        if ia >= p.pos.len()
            || ib >= p.pos.len()
            || ia >= p.orientation.len()
            || ib >= p.orientation.len()
        {
            continue;
        }
        let a = snap.anchor_world(&f.a);
        let bw = snap.anchor_world(&f.b);
        let d = bx.delta(bw, a);
        let b = [a[0] + d[0], a[1] + d[1], a[2] + d[2]];
        let r = f.radius.max(0.5 * h);
        if a.iter().chain(b.iter()).all(|v| v.is_finite()) && r.is_finite() {
            ptfe.push(Body { a, b, r });
        }
    }

    // Bucket the bodies by the z-layers their bounding boxes touch.
    let nz = dims[0];
    let layer_range = |body: &Body| -> Option<(usize, usize)> {
        let lo = body.a[2].min(body.b[2]) - body.r - bx.z_bottom;
        let hi = body.a[2].max(body.b[2]) + body.r - bx.z_bottom;
        // Centre of layer k at (k + ½)h: inside iff lo ≤ (k + ½)h ≤ hi.
        let k0 = ((lo / h) - 0.5).ceil().max(0.0);
        let k1 = ((hi / h) - 0.5).floor();
        if k1 < 0.0 || k0 >= nz as f64 || k1 < k0 {
            return None;
        }
        Some((k0 as usize, (k1 as usize).min(nz - 1)))
    };
    let bucket = |bodies: &[Body]| -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); nz];
        for (i, b) in bodies.iter().enumerate() {
            if let Some((k0, k1)) = layer_range(b) {
                for layer in out.iter_mut().take(k1 + 1).skip(k0) {
                    layer.push(i as u32);
                }
            }
        }
        out
    };
    let nps_layers = bucket(&nps);
    let ptfe_layers = bucket(&ptfe);

    let [_, ny, nx] = dims;
    let mut data = vec![PORE; nz * ny * nx];
    data.par_chunks_mut(ny * nx)
        .enumerate()
        .for_each(|(k, layer)| {
            let zc = bx.z_bottom + (k as f64 + 0.5) * h;
            for &bi in &ptfe_layers[k] {
                paint(layer, ny, nx, h, bx.lx, bx.ly, zc, &ptfe[bi as usize], PTFE);
            }
            for &bi in &nps_layers[k] {
                paint(layer, ny, nx, h, bx.lx, bx.ly, zc, &nps[bi as usize], NPS);
            }
        });
    Ok(Volume {
        dims,
        data,
        voxel_size: h,
    })
}

/// Set `label` in the voxels of one z-layer (centre height `zc`) whose centres lie inside `body`
/// or one of its periodic images in x and y.
#[allow(clippy::too_many_arguments)]
fn paint(
    layer: &mut [u8],
    ny: usize,
    nx: usize,
    h: f64,
    lx: f64,
    ly: f64,
    zc: f64,
    body: &Body,
    label: u8,
) {
    let r2 = body.r * body.r;
    let xmin = body.a[0].min(body.b[0]) - body.r;
    let xmax = body.a[0].max(body.b[0]) + body.r;
    let ymin = body.a[1].min(body.b[1]) - body.r;
    let ymax = body.a[1].max(body.b[1]) + body.r;
    let gx = nx as f64 * h;
    let gy = ny as f64 * h;
    // Images shifted by whole periods; only those overlapping the grid [0, gx) × [0, gy).
    let kx0 = ((-xmax) / lx).ceil() as i64 - 1;
    let kx1 = ((gx - xmin) / lx).floor() as i64 + 1;
    let ky0 = ((-ymax) / ly).ceil() as i64 - 1;
    let ky1 = ((gy - ymin) / ly).floor() as i64 + 1;
    for sy in ky0..=ky1 {
        let oy = sy as f64 * ly;
        let (y0, y1) = (ymin + oy, ymax + oy);
        if y1 < 0.0 || y0 > gy {
            continue;
        }
        for sx in kx0..=kx1 {
            let ox = sx as f64 * lx;
            let (x0, x1) = (xmin + ox, xmax + ox);
            if x1 < 0.0 || x0 > gx {
                continue;
            }
            let a = [body.a[0] + ox, body.a[1] + oy, body.a[2]];
            let b = [body.b[0] + ox, body.b[1] + oy, body.b[2]];
            let j0 = ((y0 / h) - 0.5).ceil().max(0.0) as usize;
            let j1 = (((y1 / h) - 0.5).floor().max(-1.0) + 1.0) as usize;
            let i0 = ((x0 / h) - 0.5).ceil().max(0.0) as usize;
            let i1 = (((x1 / h) - 0.5).floor().max(-1.0) + 1.0) as usize;
            for j in j0..j1.min(ny) {
                let yc = (j as f64 + 0.5) * h;
                let row = &mut layer[j * nx..(j + 1) * nx];
                for (i, v) in row.iter_mut().enumerate().take(i1.min(nx)).skip(i0) {
                    let xc = (i as f64 + 0.5) * h;
                    if dist2_segment([xc, yc, zc], a, b) <= r2 {
                        *v = label;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::*;

    fn snapshot(particles: &[([f64; 3], f64, Phase)], fibrils: Vec<Fibril>) -> Snapshot {
        let sim_box = SimBox {
            lx: 10e-6,
            ly: 8e-6,
            z_bottom: 0.0,
            z_top: 6e-6,
        };
        let materials = SnapshotMaterials {
            nps_sigma_ion: 1e-2,
            nps_sigma_e: 1e-9,
            reduced_ptfe_sigma_e: 1.0,
            nps_density: 2000.0,
            ptfe_density: 2200.0,
            fibril_strength: 1e8,
            fibril_yield: 1e7,
            ptfe_modulus: 5e8,
            anchor_strength: 1.0,
            ptfe_bridge_strength: 0.0,
            nps_modulus: 2e10,
            nps_poisson: 0.3,
            nps_yield_pressure: 1e8,
            nps_surface_energy: 0.1,
            nps_friction: 0.3,
        };
        let mut s = Snapshot::empty("test", "test", 0, 0.0, sim_box, materials);
        for &(pos, r, phase) in particles {
            s.push_particle(pos, r, phase);
        }
        s.fibrils = fibrils;
        s
    }

    #[test]
    fn sphere_across_periodic_edge_has_its_volume() {
        let r = 2e-6;
        // Centre near x = 0 and y = ly: half the sphere lies in the periodic images.
        let snap = snapshot(&[([0.3e-6, 7.9e-6, 3e-6], r, Phase::Nps)], vec![]);
        let h = 0.1e-6;
        let v = voxelize(&snap, h).expect("valid snapshot");
        assert_eq!(v.dims, [60, 80, 100]);
        let nps_vol = v.fraction(NPS) * v.len() as f64 * h * h * h;
        let exact = 4.0 / 3.0 * std::f64::consts::PI * r * r * r;
        assert!((nps_vol / exact - 1.0).abs() < 0.01, "{nps_vol} vs {exact}");
        // A voxel at the image position on the far side is NPS, one far away is pore.
        assert_eq!(v.get(30, 79, 99), NPS);
        assert_eq!(v.get(30, 40, 50), PORE);
    }

    #[test]
    fn nps_wins_over_ptfe_and_fibrils_are_painted() {
        let pos = [
            ([3e-6, 4e-6, 3e-6], 1e-6, Phase::Nps),
            ([7e-6, 4e-6, 3e-6], 1e-6, Phase::Ptfe),
        ];
        let fib = Fibril {
            a: Anchor {
                particle: 0,
                local: [1e-6, 0.0, 0.0],
            },
            b: Anchor {
                particle: 1,
                local: [-1e-6, 0.0, 0.0],
            },
            source: Some(1),
            radius: 0.2e-6,
            rest_length: 2e-6,
            count: 1.0,
            length: 2e-6,
            tension: 0.0,
            state: FibrilState::Intact,
            image: None,
        };
        let snap = snapshot(&pos, vec![fib]);
        let v = voxelize(&snap, 0.1e-6).expect("valid snapshot");
        // Centre of the NPS grain, of the PTFE lump, and the middle of the fibril.
        assert_eq!(v.get(30, 40, 30), NPS);
        assert_eq!(v.get(30, 40, 70), PTFE);
        assert_eq!(v.get(30, 40, 50), PTFE);
        assert_eq!(v.get(30, 45, 50), PORE);
        // Deterministic across thread counts.
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool");
        let v1 = one
            .install(|| voxelize(&snap, 0.1e-6))
            .expect("valid snapshot");
        assert_eq!(v, v1);
    }

    #[test]
    fn bad_voxel_size_is_an_error() {
        let snap = snapshot(&[], vec![]);
        assert!(matches!(
            voxelize(&snap, 0.0),
            Err(VoxelError::BadVoxelSize(_))
        ));
        assert!(matches!(
            voxelize(&snap, f64::NAN),
            Err(VoxelError::BadVoxelSize(_))
        ));
        assert!(matches!(
            voxelize(&snap, 1e-12),
            Err(VoxelError::TooLarge { .. })
        ));
    }

    #[test]
    fn axis_permutation_moves_the_axis_first() {
        let mut v = Volume::filled([2, 3, 4], 0, 1.0);
        let idx = v.index(1, 2, 3);
        v.data[idx] = 7;
        let a1 = v.with_axis_first(1);
        assert_eq!(a1.dims, [3, 2, 4]);
        assert_eq!(a1.get(2, 1, 3), 7);
        let a2 = v.with_axis_first(2);
        assert_eq!(a2.dims, [4, 2, 3]);
        assert_eq!(a2.get(3, 1, 2), 7);
    }
}
