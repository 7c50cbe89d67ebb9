//! The tensile model of a snapshot: bonds (contacts, fibrils, latent contacts) built from the
//! snapshot and their forces.

use super::*;
use crate::dem::fibril_law::{FibrilLawParams, FibrilLawState};
use crate::snapshot::{
    quat_rotate, Contact, Fibril, FibrilState, Phase, SimBox, Snapshot, SnapshotMaterials,
};
use std::f64::consts::PI;

/// Per-bond data of the NPS contacts (structure of arrays).
pub(super) struct Contacts {
    pub(super) i: Vec<u32>,
    pub(super) j: Vec<u32>,
    /// Periodic image of j relative to i, in box lengths (x, y).
    pub(super) img: Vec<[f64; 2]>,
    /// Rest vector at zero strain, m.
    pub(super) b0: Vec<[f64; 3]>,
    pub(super) d0: Vec<f64>,
    pub(super) kn: Vec<f64>,
    pub(super) kt: Vec<f64>,
    pub(super) fc: Vec<f64>,
    pub(super) alive: Vec<bool>,
}

/// Per-fibril data (structure of arrays; intact fibrils only).
pub(super) struct Fibrils {
    pub(super) a: Vec<u32>,
    pub(super) b: Vec<u32>,
    pub(super) oa: Vec<[f64; 3]>,
    pub(super) ob: Vec<[f64; 3]>,
    pub(super) img: Vec<[f64; 2]>,
    pub(super) state: Vec<FibrilLawState>,
    /// Strands per fibril (bundle multiplicity): force and stiffness are this times one strand's.
    pub(super) count: Vec<f64>,
    pub(super) alive: Vec<bool>,
}

/// Bond kinds' contribution computed in a force pass.
#[derive(Clone, Copy, Default)]
pub(super) struct BondEval {
    /// Force on the first particle, N.
    pub(super) f: [f64; 3],
    /// Centre-to-centre vector from the first to the second particle (with the periodic image),
    /// m: the branch vector of the virial.
    pub(super) b: [f64; 3],
    /// Current anchor-to-anchor length of a fibril, m (0 for contacts).
    pub(super) len: f64,
    /// Active stiffness for the preconditioning mass, N/m (0 for a slack fibril or an open
    /// broken contact).
    pub(super) stiff: f64,
    /// Load ratio (≥ 1: fails).
    pub(super) ratio: f64,
}

pub(super) struct Model {
    pub(super) axis: usize,
    pub(super) n: usize,
    pub(super) pos: Vec<[f64; 3]>,
    pub(super) lbox: [f64; 2],
    pub(super) thickness: f64,
    pub(super) mu: f64,
    pub(super) law: FibrilLawParams,
    pub(super) c: Contacts,
    pub(super) fb: Fibrils,
    /// CSR adjacency: bonds of particle p are `adj[adj_start[p]..adj_start[p+1]]`, as
    /// (global bond index, +1 if p is the bond's first particle else −1).
    pub(super) adj_start: Vec<usize>,
    pub(super) adj: Vec<(u32, u32, f64)>,
    /// Cluster (connected component of intact contacts) of each particle.
    pub(super) cluster: Vec<u32>,
    /// CSR of cluster members: cluster c holds `cl_members[cl_start[c]..cl_start[c+1]]`.
    pub(super) cl_start: Vec<usize>,
    pub(super) cl_members: Vec<u32>,
    /// Coarse (cluster-translation) acceleration of each cluster, m (dimensionless time).
    pub(super) cl_acc: Vec<[f64; 3]>,
    /// Stiffness of each particle's bonds to other clusters, N/m.
    pub(super) soft: Vec<f64>,
    /// Preconditioned force direction `a = F/m + A_cluster` per particle, m.
    pub(super) acc: Vec<[f64; 3]>,
    pub(super) eval: Vec<BondEval>,
    pub(super) force: Vec<[f64; 3]>,
    pub(super) mass: Vec<f64>,
    pub(super) vel: Vec<[f64; 3]>,
    pub(super) f_ref: f64,
    pub(super) params: TensileParams,
    pub(super) strain: f64,
    pub(super) work: RelaxationWork,
}

/// `(1 − ν²)/E` of a phase, 1/Pa: one particle's share of the contact modulus 1/E*.
fn compliance(m: &SnapshotMaterials, params: &TensileParams, ph: Phase) -> f64 {
    match ph {
        Phase::Nps => (1.0 - m.nps_poisson * m.nps_poisson) / m.nps_modulus,
        Phase::Ptfe => (1.0 - params.ptfe_poisson * params.ptfe_poisson) / m.ptfe_modulus,
    }
}

/// Periodic image (x, y, in box lengths) that takes the raw vector `raw` to the minimum-image
/// vector `b0`, both m.
fn image_shift(bx: &SimBox, raw: [f64; 3], b0: [f64; 3]) -> [f64; 2] {
    [
        ((b0[0] - raw[0]) / bx.lx).round(),
        ((b0[1] - raw[1]) / bx.ly).round(),
    ]
}

/// The periodic image (box lengths x, y; within two boxes) on which the raw anchor-to-anchor
/// vector `raw` (m) has the length `target` (m), with the length error, m: for snapshots before
/// version 3, whose fibrils do not store their image.
fn image_of_length(bx: &SimBox, raw: [f64; 3], target: f64) -> ([f64; 2], f64) {
    let mut best = ([0.0, 0.0], f64::INFINITY);
    for ix in -2..=2 {
        for iy in -2..=2 {
            let im = [f64::from(ix), f64::from(iy)];
            let v = [raw[0] + im[0] * bx.lx, raw[1] + im[1] * bx.ly, raw[2]];
            let err = (norm(v) - target).abs();
            if err < best.1 {
                best = (im, err);
            }
        }
    }
    best
}

fn invalid(m: String) -> TensileError {
    TensileError::InvalidSnapshot(m)
}

/// Contact `k` of a snapshot with `n` particles: distinct particles in range, a finite
/// non-negative contact radius (m) and a PTFE coverage in [0, 1].
fn check_contact(k: usize, ct: &Contact, n: usize) -> Result<(), TensileError> {
    let (i, j) = (ct.i as usize, ct.j as usize);
    let theta = ct.ptfe_coverage;
    let rules = [
        (i < n && j < n && i != j, "particles must differ and be < n"),
        (
            ct.radius.is_finite() && ct.radius >= 0.0,
            "radius must be finite and ≥ 0",
        ),
        (
            theta.is_finite() && (0.0..=1.0).contains(&theta),
            "PTFE coverage must be in [0, 1]",
        ),
    ];
    first_broken(&rules, || {
        let r = ct.radius;
        format!("contact {k} (particles {i}, {j} of n = {n}; radius {r} m; PTFE coverage {theta})")
    })
}

/// Intact fibril `k` of a snapshot with `n` particles: anchor particles in range, at least one
/// strand, finite positive radius (m) and rest length (m).
fn check_fibril(k: usize, f: &Fibril, n: usize) -> Result<(), TensileError> {
    let (a, b) = (f.a.particle as usize, f.b.particle as usize);
    let (r, l0) = (f.radius, f.rest_length);
    let rules = [
        (a < n && b < n, "anchor particles must be < n"),
        (
            f.count.is_finite() && f.count >= 1.0,
            "strand count must be ≥ 1",
        ),
        (r.is_finite() && r > 0.0, "radius must be finite and > 0"),
        (
            l0.is_finite() && l0 > 0.0,
            "rest length must be finite and > 0",
        ),
    ];
    first_broken(&rules, || {
        let c = f.count;
        format!("fibril {k} (anchors on {a}, {b} of n = {n}; {c} strands; radius {r} m; rest length {l0} m)")
    })
}

/// `Ok` when every rule holds, else an error naming the object (`what`) and the first rule broken.
fn first_broken(rules: &[(bool, &str)], what: impl FnOnce() -> String) -> Result<(), TensileError> {
    match rules.iter().find(|(ok, _)| !ok) {
        None => Ok(()),
        Some((_, rule)) => Err(invalid(format!("{}: {rule}", what()))),
    }
}

/// A material value's check: name, value, rule, and the rule in words.
type MaterialCheck<'a> = (&'a str, f64, fn(f64) -> bool, &'a str);

/// `Ok` when `ok`, else the snapshot is invalid for the reason `why` gives.
fn ensure(ok: bool, why: impl FnOnce() -> String) -> Result<(), TensileError> {
    if ok {
        Ok(())
    } else {
        Err(invalid(why()))
    }
}

/// Checks the particles, the box and the materials the model reads; returns the film thickness
/// (top of the highest particle minus bottom of the lowest), m.
fn check_snapshot(snap: &Snapshot) -> Result<f64, TensileError> {
    let parts = &snap.particles;
    let n = parts.pos.len();
    if n == 0 {
        return Err(invalid("no particles".into()));
    }
    if parts.radius.len() != n || parts.phase.len() != n || parts.orientation.len() != n {
        return Err(invalid("particle arrays have different lengths".into()));
    }
    let bx = &snap.sim_box;
    if !(bx.lx.is_finite() && bx.lx > 0.0 && bx.ly.is_finite() && bx.ly > 0.0) {
        return Err(invalid(format!(
            "box lengths lx = {}, ly = {} must be > 0",
            bx.lx, bx.ly
        )));
    }
    for (k, (p, r)) in parts.pos.iter().zip(&parts.radius).enumerate() {
        ensure(
            p.iter().all(|v| v.is_finite()) && r.is_finite() && *r > 0.0,
            || format!("particle {k}: non-finite position or radius <= 0"),
        )?;
    }
    let top = parts
        .pos
        .iter()
        .zip(&parts.radius)
        .map(|(p, r)| p[2] + r)
        .fold(f64::MIN, f64::max);
    let bottom = parts
        .pos
        .iter()
        .zip(&parts.radius)
        .map(|(p, r)| p[2] - r)
        .fold(f64::MAX, f64::min);
    let m = &snap.materials;
    let pos = |v: f64| v.is_finite() && v > 0.0;
    let nonneg = |v: f64| v.is_finite() && v >= 0.0;
    let poisson = |v: f64| v.is_finite() && (0.0..0.5).contains(&v);
    let (gt0, ge0) = ("must be finite and > 0", "must be finite and >= 0");
    let checks: [MaterialCheck; 6] = [
        ("nps_modulus", m.nps_modulus, pos, gt0),
        ("ptfe_modulus", m.ptfe_modulus, pos, gt0),
        ("nps_surface_energy", m.nps_surface_energy, pos, gt0),
        ("ptfe_bridge_strength", m.ptfe_bridge_strength, nonneg, ge0),
        ("nps_poisson", m.nps_poisson, poisson, "not in [0, 0.5)"),
        ("nps_friction", m.nps_friction, nonneg, "must be >= 0"),
    ];
    for (name, v, ok, rule) in checks {
        ensure(ok(v), || format!("materials.{name} = {v} {rule}"))?;
    }
    Ok(top - bottom)
}

impl Contacts {
    /// The snapshot's contacts as bonds: normal stiffness 2E*a (scaled by
    /// `contact_stiffness_scale`), tangential κ times it, strength from adhesion (2πγR*), the
    /// sintered neck and the PTFE bridge over the contact area, N.
    fn from_snapshot(snap: &Snapshot, params: &TensileParams) -> Result<Self, TensileError> {
        let (parts, bx, m) = (&snap.particles, &snap.sim_box, &snap.materials);
        let n = parts.pos.len();
        let kappa = params
            .tangential_stiffness_ratio
            .unwrap_or(2.0 * (1.0 - m.nps_poisson) / (2.0 - m.nps_poisson));
        let nc = snap.contacts.len();
        let mut c = Contacts {
            i: Vec::with_capacity(nc),
            j: Vec::with_capacity(nc),
            img: Vec::with_capacity(nc),
            b0: Vec::with_capacity(nc),
            d0: Vec::with_capacity(nc),
            kn: Vec::with_capacity(nc),
            kt: Vec::with_capacity(nc),
            fc: Vec::with_capacity(nc),
            alive: Vec::with_capacity(nc),
        };
        for (k, ct) in snap.contacts.iter().enumerate() {
            let (i, j) = (ct.i as usize, ct.j as usize);
            check_contact(k, ct, n)?;
            let raw = sub(parts.pos[j], parts.pos[i]);
            let b0 = bx.delta(parts.pos[j], parts.pos[i]);
            let d0 = norm(b0);
            ensure(d0 > 0.0, || {
                format!("contact {k}: coincident particle centres")
            })?;
            let e_star = 1.0
                / (compliance(m, params, parts.phase[i]) + compliance(m, params, parts.phase[j]));
            let (ri, rj) = (parts.radius[i], parts.radius[j]);
            let r_star = ri * rj / (ri + rj);
            let kn = 2.0 * e_star * ct.radius * params.contact_stiffness_scale;
            let fc = 2.0 * PI * m.nps_surface_energy * r_star
                + params.neck_strength_pa * PI * ct.radius * ct.radius
                + m.ptfe_bridge_strength * ct.ptfe_coverage * PI * ct.radius * ct.radius;
            c.push(
                [ct.i, ct.j],
                image_shift(bx, raw, b0),
                b0,
                d0,
                [kn, kappa * kn, fc],
                true,
            );
        }
        Ok(c)
    }

    /// Appends one bond between particles `ij`; `k` is (normal stiffness N/m, tangential stiffness
    /// N/m, strength N), `b0` the rest vector and `d0` the rest distance, m.
    fn push(
        &mut self,
        [i, j]: [u32; 2],
        img: [f64; 2],
        b0: [f64; 3],
        d0: f64,
        k: [f64; 3],
        alive: bool,
    ) {
        self.i.push(i);
        self.j.push(j);
        self.img.push(img);
        self.b0.push(b0);
        self.d0.push(d0);
        self.kn.push(k[0]);
        self.kt.push(k[1]);
        self.fc.push(k[2]);
        self.alive.push(alive);
    }

    /// Latent contacts: pairs not in contact whose gap is under `latent_contact_gap` × the smaller
    /// radius. They start open (broken) and only repel once the spheres touch, so the film cannot
    /// thin by letting particles pass through each other while the fibrils pull. Penalty
    /// stiffness: the Hertz tangent 2E*a at a = 0.1 R*, N/m.
    fn add_latent(&mut self, snap: &Snapshot, params: &TensileParams) {
        let (parts, bx, m) = (&snap.particles, &snap.sim_box, &snap.materials);
        let mut have: std::collections::HashSet<(u32, u32)> = self
            .i
            .iter()
            .zip(&self.j)
            .map(|(&a, &b)| (a.min(b), a.max(b)))
            .collect();
        for (i, j, b0) in near_pairs(parts, bx, params.latent_contact_gap) {
            if !have.insert((i, j)) {
                continue;
            }
            let (iu, ju) = (i as usize, j as usize);
            let (ri, rj) = (parts.radius[iu], parts.radius[ju]);
            let raw = sub(parts.pos[ju], parts.pos[iu]);
            let e_star = 1.0
                / (compliance(m, params, parts.phase[iu]) + compliance(m, params, parts.phase[ju]));
            let r_star = ri * rj / (ri + rj);
            let kn = 2.0 * e_star * 0.1 * r_star * params.contact_stiffness_scale;
            self.push(
                [i, j],
                image_shift(bx, raw, b0),
                b0,
                ri + rj,
                [kn, 0.0, 0.0],
                false,
            );
        }
    }
}

impl Fibrils {
    /// The snapshot's intact fibrils as bonds, anchored at their body-frame points turned by the
    /// particles' orientations, each on its stored periodic image (`Fibril::image`; in older
    /// snapshots, the image whose length matches the stored one). With `relax_fibril_prestress`, a taut fibril is taken
    /// stress-free at its current length, its volume kept (π r² L₀ constant). Also returns the
    /// largest intact fibril radius, m.
    fn from_snapshot(snap: &Snapshot, params: &TensileParams) -> Result<(Self, f64), TensileError> {
        let (parts, bx) = (&snap.particles, &snap.sim_box);
        let n = parts.pos.len();
        let intact: Vec<usize> = snap
            .fibrils
            .iter()
            .enumerate()
            .filter(|(_, f)| f.state == FibrilState::Intact)
            .map(|(k, _)| k)
            .collect();
        let r_max = intact
            .iter()
            .map(|&k| snap.fibrils[k].radius)
            .fold(0.0, f64::max);
        let mut fb = Fibrils {
            a: Vec::new(),
            b: Vec::new(),
            oa: Vec::new(),
            ob: Vec::new(),
            img: Vec::new(),
            state: Vec::new(),
            count: Vec::new(),
            alive: Vec::new(),
        };
        let offset = |k: usize, p: usize, local: [f64; 3]| -> Result<[f64; 3], TensileError> {
            let q = parts.orientation[p];
            let qn = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).sqrt();
            if !(qn.is_finite() && qn > 0.0 && local.iter().all(|v| v.is_finite())) {
                return Err(invalid(format!(
                    "fibril {k}: bad orientation or anchor of particle {p}"
                )));
            }
            Ok(quat_rotate(
                [q[0] / qn, q[1] / qn, q[2] / qn, q[3] / qn],
                local,
            ))
        };
        for &k in &intact {
            let f = &snap.fibrils[k];
            let (pa, pb) = (f.a.particle as usize, f.b.particle as usize);
            check_fibril(k, f, n)?;
            let oa = offset(k, pa, f.a.local)?;
            let ob = offset(k, pb, f.b.local)?;
            let raw = sub(add(parts.pos[pb], ob), add(parts.pos[pa], oa));
            let target = if f.length.is_finite() && f.length > 0.0 {
                f.length
            } else {
                0.0
            };
            let best = match f.image {
                Some([nx, ny]) => ([f64::from(nx), f64::from(ny)], 0.0),
                None => image_of_length(bx, raw, target),
            };
            fb.a.push(f.a.particle);
            fb.b.push(f.b.particle);
            fb.oa.push(oa);
            fb.ob.push(ob);
            fb.img.push(best.0);
            let len_now = norm([
                raw[0] + best.0[0] * bx.lx,
                raw[1] + best.0[1] * bx.ly,
                raw[2],
            ]);
            let (rest_length, radius) = if params.relax_fibril_prestress && len_now > f.rest_length
            {
                (len_now, f.radius * (f.rest_length / len_now).sqrt())
            } else {
                (f.rest_length, f.radius)
            };
            fb.state.push(FibrilLawState {
                rest_length,
                radius,
            });
            fb.count.push(f.count);
            fb.alive.push(true);
        }
        Ok((fb, r_max))
    }
}

/// CSR adjacency of the bonds (global order: contacts, then fibrils): `(adj_start, adj)` with
/// `adj[adj_start[p]..adj_start[p + 1]]` the bonds of particle p as (bond, other particle, +1 if p
/// is the bond's first particle else −1). A fibril with both ends on one particle exerts no net
/// force and gets no entry.
fn adjacency(n: usize, c: &Contacts, fb: &Fibrils) -> (Vec<usize>, Vec<(u32, u32, f64)>) {
    let nc = c.i.len();
    let nb = nc + fb.a.len();
    let mut count = vec![0usize; n + 1];
    let ends = |g: usize| -> (usize, usize) {
        if g < nc {
            (c.i[g] as usize, c.j[g] as usize)
        } else {
            (fb.a[g - nc] as usize, fb.b[g - nc] as usize)
        }
    };
    for g in 0..nb {
        let (p, q) = ends(g);
        count[p + 1] += 1;
        if q != p {
            count[q + 1] += 1;
        }
    }
    for p in 0..n {
        count[p + 1] += count[p];
    }
    let adj_start = count.clone();
    let mut fill = count;
    let mut adj = vec![(0u32, 0u32, 0.0f64); adj_start[n]];
    for g in 0..nb {
        let (p, q) = ends(g);
        if q != p {
            adj[fill[p]] = (g as u32, q as u32, 1.0);
            fill[p] += 1;
            adj[fill[q]] = (g as u32, p as u32, -1.0);
            fill[q] += 1;
        }
    }
    (adj_start, adj)
}

/// Reference force of the convergence test, N: the smaller of the mean contact strength and the
/// mean fibril yield force (whichever exists).
fn reference_force(c: &Contacts, fb: &Fibrils, law: &FibrilLawParams) -> f64 {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let fc_mean = mean(&c.fc);
    let fy: Vec<f64> = fb
        .state
        .iter()
        .map(|s| law.yield_stress * s.area())
        .collect();
    let fy_mean = mean(&fy);
    match (c.fc.is_empty(), fy.is_empty()) {
        (false, false) => fc_mean.min(fy_mean),
        (false, true) => fc_mean,
        _ => fy_mean,
    }
}

impl Model {
    /// The tensile model of `snap` for a pull along `axis`: bonds from the contacts, the latent
    /// contacts and the intact fibrils, their adjacency and the fibril law.
    pub(super) fn build(
        snap: &Snapshot,
        axis: Axis,
        params: &TensileParams,
    ) -> Result<Self, TensileError> {
        let thickness = check_snapshot(snap)?;
        let (parts, m) = (&snap.particles, &snap.materials);
        let n = parts.pos.len();
        let mut c = Contacts::from_snapshot(snap, params)?;
        if params.latent_contact_gap > 0.0 {
            c.add_latent(snap, params);
        }
        let (fb, r_max) = Fibrils::from_snapshot(snap, params)?;
        // Latent contacts only repel: they are no load path.
        if !c.alive.iter().any(|&a| a) && fb.a.is_empty() {
            return Err(TensileError::NoLoadPaths);
        }
        let r_ref = params.fibril_reference_radius.unwrap_or(r_max);
        let mut law = FibrilLawParams::from_strengths(
            m.ptfe_modulus,
            m.fibril_yield,
            m.fibril_strength,
            m.anchor_strength,
            if r_ref > 0.0 { r_ref } else { 1.0 },
        );
        if let Some(h) = params.fibril_hardening_pa {
            law.hardening_modulus = h;
        }
        if !fb.a.is_empty() {
            law.validate().map_err(|e| invalid(e.to_string()))?;
        }
        let (adj_start, adj) = adjacency(n, &c, &fb);
        let nb = c.i.len() + fb.a.len();
        let f_ref = reference_force(&c, &fb, &law);
        Ok(Self {
            axis: axis.index(),
            n,
            pos: parts.pos.clone(),
            lbox: [snap.sim_box.lx, snap.sim_box.ly],
            thickness,
            mu: m.nps_friction,
            law,
            c,
            fb,
            adj_start,
            adj,
            eval: vec![BondEval::default(); nb],
            force: vec![[0.0; 3]; n],
            mass: vec![0.0; n],
            cluster: vec![0; n],
            cl_start: Vec::new(),
            cl_members: Vec::new(),
            cl_acc: Vec::new(),
            soft: vec![0.0; n],
            acc: vec![[0.0; 3]; n],
            vel: vec![[0.0; 3]; n],
            f_ref,
            params: *params,
            strain: 0.0,
            work: RelaxationWork::default(),
        })
    }
}
