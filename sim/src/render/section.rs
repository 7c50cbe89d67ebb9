//! Planar cross-sections of a snapshot: which particle owns each pixel, and where fibrils cross.
//!
//! A slice is a plane normal to one box axis: `xz` (through-thickness, normal y, so MD across and
//! ND up), `yz` (through-thickness, normal x: TD across, ND up) or `xy` (in-plane, normal z: MD
//! across, TD up). Its position is a fraction of the box along the normal (of `ly`, `lx`, or of
//! `z_top - z_bottom` from the bottom wall).
//!
//! A sphere of radius r whose centre is at distance d < r from the plane cuts it in a disc of
//! radius ρ = √(r² − d²). Periodic images are taken in x and y (minimum image along a periodic
//! normal, ±one box length in-plane). A pixel is sampled at its centre; where discs of overlapping
//! (flattened) particles overlap, the pixel goes to the particle of smallest power distance
//! |p − c|² − r², i.e. the two are separated by their radical plane, the natural boundary between
//! two overlapping spheres. Pixels outside every disc are pore.
//!
//! Fibrils are straight segments between their anchors (minimum image). Since a fibril is usually
//! far thinner than a pixel, the part of it within a slab of half-thickness `h` around the plane is
//! projected onto the plane and drawn as a stroke (see [`FibrilStroke`]); a fibril crossing the
//! plane at right angles becomes a dot at its crossing point.

use crate::snapshot::{Phase, Snapshot};

/// Orientation of a slice plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Plane {
    /// Through-thickness slice normal to y (TD): MD horizontal, ND vertical.
    Xz,
    /// Through-thickness slice normal to x (MD): TD horizontal, ND vertical.
    Yz,
    /// In-plane slice normal to z (ND): MD horizontal, TD vertical.
    Xy,
}

impl Plane {
    /// Lower-case name used in file names and on the command line (`xz`, `yz`, `xy`).
    pub fn name(self) -> &'static str {
        match self {
            Plane::Xz => "xz",
            Plane::Yz => "yz",
            Plane::Xy => "xy",
        }
    }
    /// Labels of the horizontal and vertical image axes (process directions).
    pub fn axis_labels(self) -> (&'static str, &'static str) {
        match self {
            Plane::Xz => ("MD (x)", "ND (z)"),
            Plane::Yz => ("TD (y)", "ND (z)"),
            Plane::Xy => ("MD (x)", "TD (y)"),
        }
    }
    /// Indices of the (horizontal, vertical, normal) world axes.
    fn axes(self) -> (usize, usize, usize) {
        match self {
            Plane::Xz => (0, 2, 1),
            Plane::Yz => (1, 2, 0),
            Plane::Xy => (0, 1, 2),
        }
    }
}

/// A slice: a plane and its position as a fraction in [0, 1] of the box along the plane's normal.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SliceSpec {
    /// Plane orientation.
    pub plane: Plane,
    /// Position along the normal as a fraction of the box, [0, 1].
    pub fraction: f64,
}

impl SliceSpec {
    /// File-name stem such as `xz_0.500`.
    pub fn stem(&self) -> String {
        format!("{}_{:.3}", self.plane.name(), self.fraction)
    }
}

impl std::str::FromStr for SliceSpec {
    type Err = String;
    /// Parse `xz:0.5`, `yz:0.25` or `xy:0.3`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (p, f) = s
            .split_once(':')
            .ok_or_else(|| format!("slice `{s}`: expected PLANE:FRACTION, e.g. xz:0.5"))?;
        let plane = match p.trim().to_ascii_lowercase().as_str() {
            "xz" | "zx" => Plane::Xz,
            "yz" | "zy" => Plane::Yz,
            "xy" | "yx" => Plane::Xy,
            other => {
                return Err(format!(
                    "slice `{s}`: unknown plane `{other}` (use xz, yz or xy)"
                ))
            }
        };
        let fraction: f64 = f
            .trim()
            .parse()
            .map_err(|_| format!("slice `{s}`: fraction `{f}` is not a number"))?;
        if !(0.0..=1.0).contains(&fraction) {
            return Err(format!(
                "slice `{s}`: fraction {fraction} is outside [0, 1]"
            ));
        }
        Ok(SliceSpec { plane, fraction })
    }
}

/// Mapping between world coordinates (m) and panel pixels for one slice of one snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SectionGeometry {
    /// The slice.
    pub spec: SliceSpec,
    /// World coordinate of the plane along its normal, m.
    pub normal_pos_m: f64,
    /// Extent along the horizontal image axis, m.
    pub u_len_m: f64,
    /// Extent along the vertical image axis, m.
    pub v_len_m: f64,
    /// World coordinate of the panel's top edge along the vertical axis, m.
    pub v_top_m: f64,
    /// Pixels per metre.
    pub px_per_m: f64,
    /// Panel width, px: `round(u_len_m · px_per_m)`, at least 1.
    pub width: u32,
    /// Panel height, px: `round(v_len_m · px_per_m)`, at least 1.
    pub height: u32,
    /// Period along the horizontal axis (always periodic: x or y), m.
    u_period: f64,
    /// Period along the vertical axis if periodic (xy slices), m.
    v_period: Option<f64>,
    /// Period along the normal if periodic (xz, yz slices), m.
    n_period: Option<f64>,
}

impl SectionGeometry {
    /// Geometry of `spec` on `snap` at `px_per_um` pixels per micrometre.
    pub fn new(snap: &Snapshot, spec: SliceSpec, px_per_um: f64) -> Self {
        let b = &snap.sim_box;
        let px_per_m = px_per_um * 1e6;
        let hz = b.z_top - b.z_bottom;
        let (u_len, v_len, v_top, n_pos, v_period, n_period) = match spec.plane {
            Plane::Xz => (b.lx, hz, b.z_top, spec.fraction * b.ly, None, Some(b.ly)),
            Plane::Yz => (b.ly, hz, b.z_top, spec.fraction * b.lx, None, Some(b.lx)),
            Plane::Xy => (
                b.lx,
                b.ly,
                b.ly,
                b.z_bottom + spec.fraction * hz,
                Some(b.ly),
                None,
            ),
        };
        let px = |l: f64| ((l * px_per_m).round().max(1.0)).min(u32::MAX as f64) as u32;
        SectionGeometry {
            spec,
            normal_pos_m: n_pos,
            u_len_m: u_len,
            v_len_m: v_len,
            v_top_m: v_top,
            px_per_m,
            width: px(u_len),
            height: px(v_len),
            u_period: u_len,
            v_period,
            n_period,
        }
    }

    /// Split a world point into (horizontal px, vertical px, signed normal distance to the plane in
    /// m, minimum image if the normal is periodic).
    pub fn project(&self, p: [f64; 3]) -> ([f64; 2], f64) {
        let (iu, iv, inn) = self.spec.plane.axes();
        let mut dn = p[inn] - self.normal_pos_m;
        if let Some(l) = self.n_period {
            dn -= l * (dn / l).round();
        }
        (
            [
                p[iu] * self.px_per_m,
                (self.v_top_m - p[iv]) * self.px_per_m,
            ],
            dn,
        )
    }

    /// Shifts (px) of the periodic images to try for a feature spanning `[lo, hi]` in px, per
    /// axis; only images that can overlap the panel are returned.
    fn image_shifts(&self, lo: [f64; 2], hi: [f64; 2]) -> Vec<[f64; 2]> {
        let pu = self.u_period * self.px_per_m;
        let us: Vec<f64> = [-pu, 0.0, pu]
            .into_iter()
            .filter(|s| hi[0] + s >= 0.0 && lo[0] + s <= self.width as f64)
            .collect();
        let vs: Vec<f64> = match self.v_period {
            Some(l) => {
                let pv = l * self.px_per_m;
                [-pv, 0.0, pv]
                    .into_iter()
                    .filter(|s| hi[1] + s >= 0.0 && lo[1] + s <= self.height as f64)
                    .collect()
            }
            None => vec![0.0],
        };
        let mut out = Vec::with_capacity(us.len() * vs.len());
        for &v in &vs {
            for &u in &us {
                out.push([u, v]);
            }
        }
        out
    }
}

/// The disc in which a particle (or one of its periodic images) cuts the slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disc {
    /// Particle index.
    pub particle: u32,
    /// Disc centre, panel px.
    pub centre_px: [f64; 2],
    /// Disc radius ρ = √(r² − d²), px.
    pub radius_px: f64,
}

/// Pixel ownership of a slice: which particle's material is at each pixel centre.
#[derive(Debug, Clone)]
pub struct SectionRaster {
    /// Geometry of the slice.
    pub geom: SectionGeometry,
    /// Owning particle per pixel, row-major (`y * width + x`), `-1` for pore.
    pub owner: Vec<i64>,
    /// All discs cut by the plane (with periodic images), in particle order.
    pub discs: Vec<Disc>,
}

impl SectionRaster {
    /// Rasterize the particles of `snap` on the slice `geom`.
    pub fn new(snap: &Snapshot, geom: SectionGeometry) -> Self {
        let (w, h) = (geom.width as usize, geom.height as usize);
        let mut owner = vec![-1i64; w * h];
        let mut best = vec![f64::INFINITY; w * h];
        let mut discs = Vec::new();
        let ps = &snap.particles;
        for (i, (&p, &r)) in ps.pos.iter().zip(&ps.radius).enumerate() {
            if r.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
                || !p.iter().all(|c| c.is_finite())
            {
                continue;
            }
            let (c, dn) = geom.project(p);
            if dn.abs() >= r {
                continue;
            }
            let rho = (r * r - dn * dn).sqrt() * geom.px_per_m;
            let lo = [c[0] - rho, c[1] - rho];
            let hi = [c[0] + rho, c[1] + rho];
            for s in geom.image_shifts(lo, hi) {
                let cc = [c[0] + s[0], c[1] + s[1]];
                discs.push(Disc {
                    particle: i as u32,
                    centre_px: cc,
                    radius_px: rho,
                });
                let x0 = ((cc[0] - rho).floor().max(0.0)) as usize;
                let x1 = ((cc[0] + rho).ceil().min(w as f64)) as usize;
                let y0 = ((cc[1] - rho).floor().max(0.0)) as usize;
                let y1 = ((cc[1] + rho).ceil().min(h as f64)) as usize;
                for y in y0..y1 {
                    let dy = y as f64 + 0.5 - cc[1];
                    for x in x0..x1 {
                        let dx = x as f64 + 0.5 - cc[0];
                        // Power distance in px²: |p − c|² − r² = in-plane² + dn² − r² = in-plane² − ρ².
                        let pow = dx * dx + dy * dy - rho * rho;
                        let k = y * w + x;
                        if pow < 0.0 && pow < best[k] {
                            best[k] = pow;
                            owner[k] = i as i64;
                        }
                    }
                }
            }
        }
        SectionRaster { geom, owner, discs }
    }

    /// Fractions of panel pixels that are pore, NPS and PTFE (in that order).
    pub fn phase_fractions(&self, snap: &Snapshot) -> [f64; 3] {
        let mut n = [0usize; 3];
        for &o in &self.owner {
            let k = match o {
                -1 => 0,
                i => match snap.particles.phase.get(i as usize) {
                    Some(Phase::Nps) => 1,
                    Some(Phase::Ptfe) => 2,
                    None => 0,
                },
            };
            n[k] += 1;
        }
        let t = self.owner.len().max(1) as f64;
        [n[0] as f64 / t, n[1] as f64 / t, n[2] as f64 / t]
    }

    /// Greedy colouring of the NPS grains cut by this slice so that grains whose discs touch or
    /// overlap (within 1 px) get different colour indices in `0..n_colours` where possible
    /// (particle index order, so deterministic). Returns a map particle → colour index for every
    /// particle (0 for those not in the slice).
    pub fn grain_colouring(&self, snap: &Snapshot, n_colours: usize) -> Vec<usize> {
        let n = snap.particles.pos.len();
        let mut adj: Vec<Vec<u32>> = vec![Vec::new(); n];
        // Uniform-grid neighbour search over the discs.
        let cell = self
            .discs
            .iter()
            .map(|d| 2.0 * d.radius_px + 1.0)
            .fold(1.0, f64::max);
        let mut grid: std::collections::BTreeMap<(i64, i64), Vec<usize>> = Default::default();
        for (k, d) in self.discs.iter().enumerate() {
            let key = (
                (d.centre_px[0] / cell).floor() as i64,
                (d.centre_px[1] / cell).floor() as i64,
            );
            grid.entry(key).or_default().push(k);
        }
        for (a, da) in self.discs.iter().enumerate() {
            let kx = (da.centre_px[0] / cell).floor() as i64;
            let ky = (da.centre_px[1] / cell).floor() as i64;
            for gy in ky - 1..=ky + 1 {
                for gx in kx - 1..=kx + 1 {
                    let Some(list) = grid.get(&(gx, gy)) else {
                        continue;
                    };
                    for &b in list {
                        let db = &self.discs[b];
                        if b <= a || db.particle == da.particle {
                            continue;
                        }
                        let dx = da.centre_px[0] - db.centre_px[0];
                        let dy = da.centre_px[1] - db.centre_px[1];
                        let reach = da.radius_px + db.radius_px + 1.0;
                        if dx * dx + dy * dy < reach * reach {
                            adj[da.particle as usize].push(db.particle);
                            adj[db.particle as usize].push(da.particle);
                        }
                    }
                }
            }
        }
        let mut colour = vec![usize::MAX; n];
        let mut in_slice: Vec<u32> = self.discs.iter().map(|d| d.particle).collect();
        in_slice.sort_unstable();
        in_slice.dedup();
        for &p in &in_slice {
            let mut used = vec![false; n_colours];
            for &q in &adj[p as usize] {
                let c = colour[q as usize];
                if c < n_colours {
                    used[c] = true;
                }
            }
            colour[p as usize] = used
                .iter()
                .position(|u| !u)
                .unwrap_or(p as usize % n_colours);
        }
        colour
            .into_iter()
            .map(|c| if c == usize::MAX { 0 } else { c })
            .collect()
    }
}

/// The visible part of one fibril on a slice, in panel pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FibrilStroke {
    /// Fibril index.
    pub fibril: u32,
    /// Start of the projected part, px.
    pub a_px: [f64; 2],
    /// End of the projected part, px.
    pub b_px: [f64; 2],
    /// Stroke width: fibril diameter in px, at least 1 px when drawn.
    pub width_px: f64,
}

/// Parts of the fibrils lying within `half_slab_m` of the slice plane, projected onto it
/// (periodic images included). A fibril segment P(t) = A + t (B − A), t ∈ [0, 1] (B taken at its
/// minimum image from A) is clipped to |n(t) − n₀ − k L| ≤ h for the periodic shifts k ∈ {−1, 0, 1}
/// of a periodic normal.
pub fn fibril_strokes(
    snap: &Snapshot,
    geom: &SectionGeometry,
    half_slab_m: f64,
) -> Vec<FibrilStroke> {
    let mut out = Vec::new();
    let np = snap.particles.pos.len();
    let (_, _, inn) = geom.spec.plane.axes();
    for (fi, f) in snap.fibrils.iter().enumerate() {
        if f.a.particle as usize >= np || f.b.particle as usize >= np {
            continue;
        }
        let pa = snap.anchor_world(&f.a);
        let pb0 = snap.anchor_world(&f.b);
        let d = snap.sim_box.delta(pb0, pa);
        let pb = [pa[0] + d[0], pa[1] + d[1], pa[2] + d[2]];
        if !pa.iter().chain(pb.iter()).all(|c| c.is_finite()) {
            continue;
        }
        // A slab at least one period deep sees every fibril once, whole.
        let whole = geom.n_period.is_some_and(|l| half_slab_m >= 0.5 * l);
        let shifts: &[f64] = if geom.n_period.is_some() && !whole {
            &[-1.0, 0.0, 1.0]
        } else {
            &[0.0]
        };
        for &k in shifts {
            let n0 = geom.normal_pos_m + k * geom.n_period.unwrap_or(0.0);
            let (na, nb) = (pa[inn] - n0, pb[inn] - n0);
            // Clip t so that |na + t (nb − na)| ≤ h.
            let (t0, t1) = if whole {
                (0.0, 1.0)
            } else if (nb - na).abs() < 1e-300 {
                if na.abs() <= half_slab_m {
                    (0.0, 1.0)
                } else {
                    continue;
                }
            } else {
                let ta = (-half_slab_m - na) / (nb - na);
                let tb = (half_slab_m - na) / (nb - na);
                (ta.min(tb).max(0.0), ta.max(tb).min(1.0))
            };
            if t0 > t1 {
                continue;
            }
            let at = |t: f64| {
                let p = [
                    pa[0] + t * (pb[0] - pa[0]),
                    pa[1] + t * (pb[1] - pa[1]),
                    pa[2] + t * (pb[2] - pa[2]),
                ];
                let (q, _) = geom.project(p);
                q
            };
            let (qa, qb) = (at(t0), at(t1));
            let lo = [qa[0].min(qb[0]), qa[1].min(qb[1])];
            let hi = [qa[0].max(qb[0]), qa[1].max(qb[1])];
            for s in geom.image_shifts(lo, hi) {
                out.push(FibrilStroke {
                    fibril: fi as u32,
                    a_px: [qa[0] + s[0], qa[1] + s[1]],
                    b_px: [qb[0] + s[0], qb[1] + s[1]],
                    width_px: 2.0 * f.radius * geom.px_per_m,
                });
            }
        }
    }
    out
}
