//! Solver maps on a cross-section: ionic potential, current density and PTFE clusters.
//!
//! Inputs come as plain vectors ([`MapInputs`]) so the renderer does not depend on the solvers'
//! types: the network solver's potential per particle, and the continuity analysis's PTFE cluster
//! id per particle and per fibril plus the ids of the clusters that span the film.
//!
//! Current density is estimated per particle from its contact currents, consistent with the
//! contact-network picture: each NPS–NPS contact of radius a with PTFE coverage θ has the Holm
//! constriction conductance G = 2 σ a √(1 − θ) (covering a fraction θ of the contact area shrinks
//! the conducting radius to a√(1 − θ); Holm, *Electric Contacts* 1967; Birkholz et al. 2019), carries
//! I = G (φᵢ − φⱼ), and the current through particle i is half the sum of |I| over its contacts
//! (what enters equals what leaves), spread over its mid-plane area: |j|ᵢ ≈ ½ Σⱼ |Iᵢⱼ| / (π rᵢ²).
//! Wall contacts are not counted (the wall potentials are not part of the inputs), so grains
//! touching a wall are underestimated by up to a half. It is a display estimate, not a solver
//! output.

use super::figure::{compose, Figure, Side};
use super::raster::{draw_capsule, hex_colours, viridis, Colour};
use super::section::{fibril_strokes, SectionRaster, SliceSpec};
use super::{checked_geometry, RenderError, RenderOptions, PORE_COLOUR, PTFE_COLOUR};
use crate::snapshot::{Phase, Snapshot};
use image::{Rgb, RgbImage};

/// Solver results to map, as plain vectors (empty vectors = not available).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MapInputs {
    /// Ionic potential per particle, V (length = number of particles); NaN = not part of the solve
    /// (PTFE, isolated grains; `null` in JSON). Empty = no potential or current maps.
    #[serde(default, with = "nan_as_null")]
    pub potential_v: Vec<f64>,
    /// PTFE cluster id per particle (length = number of particles; `None` for NPS and unclustered
    /// particles). Empty = none.
    #[serde(default)]
    pub particle_cluster: Vec<Option<u32>>,
    /// PTFE cluster id per fibril (length = number of fibrils). Empty = none.
    #[serde(default)]
    pub fibril_cluster: Vec<Option<u32>>,
    /// Ids of clusters that connect the bottom and top faces (drawn highlighted).
    #[serde(default)]
    pub spanning_clusters: Vec<u32>,
}

impl MapInputs {
    /// Check vector lengths against the snapshot.
    pub fn check(&self, snap: &Snapshot) -> Result<(), RenderError> {
        let n = snap.particles.pos.len();
        let nf = snap.fibrils.len();
        let mut bad = Vec::new();
        if !self.potential_v.is_empty() && self.potential_v.len() != n {
            bad.push(format!(
                "potential_v has {} values for {n} particles",
                self.potential_v.len()
            ));
        }
        if !self.particle_cluster.is_empty() && self.particle_cluster.len() != n {
            bad.push(format!(
                "particle_cluster has {} values for {n} particles",
                self.particle_cluster.len()
            ));
        }
        if !self.fibril_cluster.is_empty() && self.fibril_cluster.len() != nf {
            bad.push(format!(
                "fibril_cluster has {} values for {nf} fibrils",
                self.fibril_cluster.len()
            ));
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(RenderError::MapInputs(bad.join("; ")))
        }
    }

    /// Map inputs from the solvers' outputs: `potentials` per particle (V, NaN = not solved; e.g.
    /// `network::NetworkConductivity::potentials`), and from
    /// `continuity::ContinuityResult`: `ptfe_particle_cluster`, `fibril_cluster` (with
    /// [`crate::solvers::continuity::NO_CLUSTER`] for none) and `spanning_clusters`. Pass empty
    /// slices for what is not available.
    pub fn from_solver_outputs(
        potentials: &[f64],
        ptfe_particle_cluster: &[Option<u32>],
        fibril_cluster: &[u32],
        spanning_clusters: &[u32],
    ) -> Self {
        use crate::solvers::continuity::NO_CLUSTER;
        MapInputs {
            potential_v: potentials.to_vec(),
            particle_cluster: ptfe_particle_cluster.to_vec(),
            fibril_cluster: fibril_cluster
                .iter()
                .map(|&c| if c == NO_CLUSTER { None } else { Some(c) })
                .collect(),
            spanning_clusters: spanning_clusters.to_vec(),
        }
    }

    /// Whether any cluster ids are given.
    pub fn has_clusters(&self) -> bool {
        !self.particle_cluster.is_empty() || !self.fibril_cluster.is_empty()
    }
}

/// JSON has no NaN: potentials are written with `null` for NaN and read back the same way.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            v.iter()
                .map(|x| if x.is_finite() { Some(*x) } else { None }),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let v: Vec<Option<f64>> = Vec::deserialize(d)?;
        Ok(v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
    }
}

/// Colour of grains that are not part of the potential solve (NaN potential).
pub const UNSOLVED_COLOUR: Colour = [150, 150, 150];
/// Colour of spanning PTFE clusters.
pub const SPANNING_COLOUR: Colour = [230, 20, 20];
/// Colour of PTFE not assigned to a cluster.
pub const UNCLUSTERED_COLOUR: Colour = [120, 120, 120];
/// NPS grains in the cluster map (faded background).
pub const CLUSTER_MAP_NPS: Colour = [222, 214, 200];
/// Pore in the cluster map.
pub const CLUSTER_MAP_PORE: Colour = [250, 250, 250];

/// Colours of non-spanning clusters (cycled by id); none is red, so spanning ones stand out.
const CLUSTER_PALETTE: [Colour; 8] = hex_colours([
    0x1f77b4, 0x2ca02c, 0x9467bd, 0x17becf, 0xbcbd22, 0x8c564b, 0xe377c2, 0xffa028,
]);

/// Colour of cluster `id`.
pub fn cluster_colour(id: Option<u32>, spanning: &[u32]) -> Colour {
    match id {
        None => UNCLUSTERED_COLOUR,
        Some(c) if spanning.contains(&c) => SPANNING_COLOUR,
        Some(c) => CLUSTER_PALETTE[(c as usize).wrapping_mul(5) % CLUSTER_PALETTE.len()],
    }
}

/// Per-particle current density magnitude estimate, A/m² (NaN where the particle has no finite
/// potential), from the contact currents as described in the module docs.
pub fn particle_current_density(snap: &Snapshot, potential_v: &[f64]) -> Vec<f64> {
    let n = snap.particles.pos.len();
    let sigma = snap.materials.nps_sigma_ion;
    let mut sum = vec![0.0f64; n];
    for c in &snap.contacts {
        let (i, j) = (c.i as usize, c.j as usize);
        if i >= n || j >= n || i >= potential_v.len() || j >= potential_v.len() {
            continue;
        }
        if snap.particles.phase[i] != Phase::Nps || snap.particles.phase[j] != Phase::Nps {
            continue;
        }
        let (pi, pj) = (potential_v[i], potential_v[j]);
        if !pi.is_finite() || !pj.is_finite() {
            continue;
        }
        let g = 2.0 * sigma * c.radius.max(0.0) * (1.0 - c.ptfe_coverage.clamp(0.0, 1.0)).sqrt();
        let cur = (g * (pi - pj)).abs();
        sum[i] += cur;
        sum[j] += cur;
    }
    (0..n)
        .map(|i| {
            let phi = potential_v.get(i).copied().unwrap_or(f64::NAN);
            let r = snap.particles.radius[i];
            if !phi.is_finite() || r.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                f64::NAN
            } else {
                0.5 * sum[i] / (std::f64::consts::PI * r * r)
            }
        })
        .collect()
}

/// Draw a per-particle scalar on a slice with the viridis map between `lo` and `hi` (NaN values
/// in [`UNSOLVED_COLOUR`], PTFE in [`PTFE_COLOUR`], pore in [`PORE_COLOUR`]).
fn scalar_panel(
    snap: &Snapshot,
    raster: &SectionRaster,
    values: &[f64],
    lo: f64,
    hi: f64,
) -> RgbImage {
    let g = &raster.geom;
    let mut img = RgbImage::new(g.width, g.height);
    let span = if hi > lo { hi - lo } else { 1.0 };
    for (k, px) in img.pixels_mut().enumerate() {
        let o = raster.owner[k];
        let c = if o < 0 {
            PORE_COLOUR
        } else if snap.particles.phase[o as usize] == Phase::Ptfe {
            PTFE_COLOUR
        } else {
            let v = values[o as usize];
            if v.is_finite() {
                viridis((v - lo) / span)
            } else {
                UNSOLVED_COLOUR
            }
        };
        *px = Rgb(c);
    }
    img
}

fn finite_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let mut r: Option<(f64, f64)> = None;
    for v in values.filter(|v| v.is_finite()) {
        r = Some(match r {
            None => (v, v),
            Some((a, b)) => (a.min(v), b.max(v)),
        });
    }
    r
}

fn map_extras() -> Vec<(Colour, String)> {
    vec![
        (UNSOLVED_COLOUR, "not in solve".into()),
        (PTFE_COLOUR, "PTFE particle".into()),
        (PORE_COLOUR, "pore".into()),
    ]
}

/// The solver maps a cross-section can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolverMap {
    /// Ionic potential per grain, V, on the range of the finite potentials of the whole snapshot
    /// (so slices share one scale).
    Potential,
    /// Current-density magnitude per grain, A/m², on a log scale over the three decades below the
    /// largest value (the estimate of the module docs).
    CurrentDensity,
    /// PTFE clusters: the slice's grains faded, PTFE particles cut by the slice and every fibril
    /// of the film projected along the slice normal (the whole box depth, so a through-film path
    /// is visible as one connected colour), coloured by cluster; spanning clusters in red, drawn
    /// last and one pixel wider.
    Clusters,
}

impl SolverMap {
    /// The maps `maps` holds the inputs for, in drawing order.
    pub fn available(maps: &MapInputs) -> Vec<SolverMap> {
        let mut out = Vec::new();
        if !maps.potential_v.is_empty() {
            out.extend([SolverMap::Potential, SolverMap::CurrentDensity]);
        }
        if maps.has_clusters() {
            out.push(SolverMap::Clusters);
        }
        out
    }

    /// The PNG file name of this map on slice `spec` (the cluster map projects the whole box and
    /// has one name).
    pub fn file_name(self, spec: SliceSpec) -> String {
        match self {
            SolverMap::Potential => format!("potential_{}.png", spec.stem()),
            SolverMap::CurrentDensity => format!("current_{}.png", spec.stem()),
            SolverMap::Clusters => "clusters.png".into(),
        }
    }
}

/// Draws `map` of the solver results `maps` on slice `spec` of `snap`, with its colour bar or
/// legend. Errors when the options or slice are invalid, the inputs do not fit the snapshot, or a
/// potential-based map has no potentials.
pub fn render_map(
    snap: &Snapshot,
    maps: &MapInputs,
    map: SolverMap,
    spec: SliceSpec,
    opts: &RenderOptions,
) -> Result<Figure, RenderError> {
    opts.validate()?;
    let geom = checked_geometry(snap, spec, opts.px_per_um)?;
    maps.check(snap)?;
    if map != SolverMap::Clusters && maps.potential_v.is_empty() {
        return Err(RenderError::MapInputs("no potentials given".into()));
    }
    Ok(match map {
        SolverMap::Potential => scalar_map(snap, geom, spec, opts, &potential_field(maps)),
        SolverMap::CurrentDensity => {
            scalar_map(snap, geom, spec, opts, &current_density_field(snap, maps))
        }
        SolverMap::Clusters => cluster_map(snap, maps, geom, spec, opts),
    })
}

/// A per-particle scalar to draw: the values, the colour range, the title's `what`, the colour
/// bar's label and whether the values are log10 of the labelled quantity.
struct ScalarField {
    values: Vec<f64>,
    range: (f64, f64),
    what: &'static str,
    label: &'static str,
    log10: bool,
}

/// The ionic potentials, V, on the range of the finite ones.
fn potential_field(maps: &MapInputs) -> ScalarField {
    let range = finite_range(maps.potential_v.iter().copied()).unwrap_or((0.0, 1.0));
    ScalarField {
        values: maps.potential_v.clone(),
        range,
        what: "ionic potential",
        label: "φ (V)",
        log10: false,
    }
}

/// log10 of the current-density estimate, A/m², clipped to the three decades below the largest.
fn current_density_field(snap: &Snapshot, maps: &MapInputs) -> ScalarField {
    let j = particle_current_density(snap, &maps.potential_v);
    let logj: Vec<f64> = j
        .iter()
        .map(|&v| if v > 0.0 { v.log10() } else { f64::NAN })
        .collect();
    let hi = finite_range(logj.iter().copied())
        .map(|r| r.1)
        .unwrap_or(0.0);
    let lo = hi - 3.0;
    let shown: Vec<f64> = logj
        .iter()
        .zip(&j)
        .map(|(&l, &v)| if v == 0.0 { lo } else { l.max(lo) })
        .collect();
    ScalarField {
        values: shown,
        range: (lo, hi),
        what: "|j| (contact-current estimate)",
        label: "|j| (A/m²)",
        log10: true,
    }
}

/// A per-particle scalar field on a slice, with its colour bar.
fn scalar_map(
    snap: &Snapshot,
    geom: super::SectionGeometry,
    spec: SliceSpec,
    opts: &RenderOptions,
    field: &ScalarField,
) -> Figure {
    let (lo, hi) = field.range;
    let raster = SectionRaster::new(snap, geom);
    let panel = scalar_panel(snap, &raster, &field.values, lo, hi);
    let title = format!(
        "{} · {} · {}, {} slice",
        snap.scenario,
        snap.stage,
        field.what,
        spec.plane.name()
    );
    let side = Side::ColourBar {
        min: lo,
        max: hi,
        label: field.label.into(),
        log10: field.log10,
        extra: map_extras(),
    };
    compose(
        &panel,
        &title,
        spec.plane.axis_labels(),
        opts.px_per_um,
        &side,
    )
}

/// The PTFE cluster map ([`SolverMap::Clusters`]).
fn cluster_map(
    snap: &Snapshot,
    maps: &MapInputs,
    geom: super::SectionGeometry,
    spec: SliceSpec,
    opts: &RenderOptions,
) -> Figure {
    let raster = SectionRaster::new(snap, geom);
    let mut img = RgbImage::new(geom.width, geom.height);
    for (k, px) in img.pixels_mut().enumerate() {
        let o = raster.owner[k];
        let c = if o < 0 {
            CLUSTER_MAP_PORE
        } else if snap.particles.phase[o as usize] == Phase::Ptfe {
            cluster_colour(
                maps.particle_cluster.get(o as usize).copied().flatten(),
                &maps.spanning_clusters,
            )
        } else {
            CLUSTER_MAP_NPS
        };
        *px = Rgb(c);
    }
    // Half-depth of the box along the normal: every fibril is within it of the plane.
    let b = &snap.sim_box;
    let depth = b.lx.max(b.ly).max(b.z_top - b.z_bottom);
    let strokes = fibril_strokes(snap, &geom, depth);
    let clip = [0, 0, geom.width as i64, geom.height as i64];
    let id_of = |f: u32| maps.fibril_cluster.get(f as usize).copied().flatten();
    let spanning = |f: u32| id_of(f).is_some_and(|c| maps.spanning_clusters.contains(&c));
    for pass_spanning in [false, true] {
        for s in strokes
            .iter()
            .filter(|s| spanning(s.fibril) == pass_spanning)
        {
            let c = cluster_colour(id_of(s.fibril), &maps.spanning_clusters);
            let w = s.width_px.max(1.0) + if pass_spanning { 1.0 } else { 0.0 };
            draw_capsule(&mut img, s.a_px, s.b_px, w, c, clip);
        }
    }
    let mut legend = vec![(SPANNING_COLOUR, "spanning cluster".into())];
    let mut ids: Vec<u32> = maps
        .fibril_cluster
        .iter()
        .chain(&maps.particle_cluster)
        .flatten()
        .copied()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let n_clusters = ids.len();
    for &c in ids
        .iter()
        .filter(|c| !maps.spanning_clusters.contains(c))
        .take(4)
    {
        legend.push((
            cluster_colour(Some(c), &maps.spanning_clusters),
            format!("cluster {c}"),
        ));
    }
    legend.push((UNCLUSTERED_COLOUR, "no cluster".into()));
    legend.push((CLUSTER_MAP_NPS, "NPS (slice)".into()));
    let title = format!(
        "{} · {} · PTFE clusters ({n_clusters}, {} spanning), fibrils projected on {}",
        snap.scenario,
        snap.stage,
        maps.spanning_clusters.len(),
        spec.plane.name()
    );
    compose(
        &img,
        &title,
        spec.plane.axis_labels(),
        opts.px_per_um,
        &Side::Legend(legend),
    )
}
