//! FIRE 2.0 relaxation of the tensile model to mechanical equilibrium: the bond forces, the
//! rigid clusters of intact contacts, and the accelerations.

use super::*;
use crate::dem::fibril_law::{failure_ratios, fibril_load};

impl Model {
    /// Two-level preconditioned direction: Jacobi `F_i/m_i` plus, for clusters of two or more
    /// particles, the cluster translation `A_C = Σ_{i∈C} F_i / Σ_{i∈C} k_soft,i` that the soft
    /// (fibril and open-contact) bonds to other clusters resist. Stiff contact clusters pulled by
    /// soft fibrils otherwise relax at the rate sqrt(k_fibril / (N k_contact)).
    pub(super) fn compute_acc(&mut self) {
        let (force, soft, start, members) =
            (&self.force, &self.soft, &self.cl_start, &self.cl_members);
        for_chunks(&mut self.cl_acc, |off, accs| {
            for (q, a) in accs.iter_mut().enumerate() {
                let c = off + q;
                let mem = &members[start[c]..start[c + 1]];
                *a = [0.0; 3];
                if mem.len() < 2 {
                    continue;
                }
                let (mut f, mut k) = ([0.0; 3], 0.0);
                for &p in mem {
                    let p = p as usize;
                    f[0] += force[p][0];
                    f[1] += force[p][1];
                    f[2] += force[p][2];
                    k += soft[p];
                }
                if k > 0.0 {
                    *a = [f[0] / k, f[1] / k, f[2] / k];
                }
            }
        });
        let (mass, cl, cl_acc) = (&self.mass, &self.cluster, &self.cl_acc);
        for_chunks(&mut self.acc, |off, accs| {
            for (q, a) in accs.iter_mut().enumerate() {
                let p = off + q;
                if mass[p] > 0.0 {
                    let ca = cl_acc[cl[p] as usize];
                    for d in 0..3 {
                        a[d] = force[p][d] / mass[p] + ca[d];
                    }
                } else {
                    *a = [0.0; 3];
                }
            }
        });
    }

    pub(super) fn check_finite(&self) -> Result<(), TensileError> {
        for (p, (x, f)) in self.pos.iter().zip(&self.force).enumerate() {
            if !x.iter().all(|v| v.is_finite()) {
                return Err(TensileError::NonFinite {
                    what: "position",
                    particle: p,
                    strain: self.strain,
                });
            }
            if !f.iter().all(|v| v.is_finite()) {
                return Err(TensileError::NonFinite {
                    what: "force",
                    particle: p,
                    strain: self.strain,
                });
            }
        }
        Ok(())
    }

    pub(super) fn max_force(&self) -> f64 {
        if self.n <= CHUNK {
            self.force.iter().fold(0.0, |m, f| m.max(norm(*f)))
        } else {
            self.force
                .par_iter()
                .map(|f| norm(*f))
                .reduce(|| 0.0, f64::max)
        }
    }

    /// FIRE 2.0 relaxation of the current configuration to the force tolerance; leaves forces
    /// and bond evaluations up to date. Returns the iterations used.
    pub(super) fn relax(&mut self) -> Result<usize, TensileError> {
        self.relax_to(self.params.force_tolerance)
    }

    /// [`Model::relax`] to the largest force `tolerance · F_ref`.
    pub(super) fn relax_to(&mut self, tolerance: f64) -> Result<usize, TensileError> {
        const DT_START: f64 = 0.1;
        const DT_MAX: f64 = 0.7;
        const DT_MIN: f64 = 1e-3;
        const N_DELAY: usize = 5;
        const F_INC: f64 = 1.1;
        const F_DEC: f64 = 0.5;
        const ALPHA0: f64 = 0.25;
        const F_ALPHA: f64 = 0.99;
        self.work.relaxations += 1;
        self.build_clusters();
        self.vel.iter_mut().for_each(|v| *v = [0.0; 3]);
        self.compute_forces();
        self.check_finite()?;
        let tol = tolerance * self.f_ref;
        let (mut dt, mut alpha, mut n_pos) = (DT_START, ALPHA0, 0usize);
        for it in 0..self.params.max_iterations {
            if self.max_force() <= tol {
                self.work.iterations += it;
                return Ok(it);
            }
            let (force, vel, mass) = (&self.force, &self.vel, &self.mass);
            let power = det_sum(self.n, |p| {
                if mass[p] > 0.0 {
                    dot(force[p], vel[p])
                } else {
                    0.0
                }
            });
            if power > 0.0 {
                n_pos += 1;
                if n_pos > N_DELAY {
                    dt = (dt * F_INC).min(DT_MAX);
                    alpha *= F_ALPHA;
                }
            } else {
                n_pos = 0;
                dt = (dt * F_DEC).max(DT_MIN);
                alpha = ALPHA0;
                let half = 0.5 * dt;
                for_chunks2(&mut self.pos, &mut self.vel, |_, xs, vs| {
                    for (x, v) in xs.iter_mut().zip(vs.iter_mut()) {
                        for d in 0..3 {
                            x[d] -= half * v[d];
                            v[d] = 0.0;
                        }
                    }
                });
            }
            // Semi-implicit Euler with FIRE velocity mixing (preconditioned direction a = F/m).
            let (acc, mass) = (&self.acc, &self.mass);
            for_chunks(&mut self.vel, |off, vs| {
                for (q, v) in vs.iter_mut().enumerate() {
                    let p = off + q;
                    if mass[p] > 0.0 {
                        for d in 0..3 {
                            v[d] += dt * acc[p][d];
                        }
                    }
                }
            });
            let vel = &self.vel;
            let v_norm = det_sum(self.n, |p| dot(vel[p], vel[p])).sqrt();
            let a_norm = det_sum(self.n, |p| dot(acc[p], acc[p])).sqrt();
            let mix = if a_norm > 0.0 {
                alpha * v_norm / a_norm
            } else {
                0.0
            };
            for_chunks2(&mut self.pos, &mut self.vel, |off, xs, vs| {
                for (q, (x, v)) in xs.iter_mut().zip(vs.iter_mut()).enumerate() {
                    let p = off + q;
                    if mass[p] > 0.0 {
                        for d in 0..3 {
                            v[d] = (1.0 - alpha) * v[d] + mix * acc[p][d];
                            x[d] += dt * v[d];
                        }
                    } else {
                        *v = [0.0; 3];
                    }
                }
            });
            self.compute_forces();
            self.check_finite()?;
        }
        self.work.iterations += self.params.max_iterations;
        self.work.unconverged += 1;
        Ok(self.params.max_iterations)
    }

    /// Evaluate every bond (in parallel over fixed chunks of bonds), then gather each particle's
    /// force and preconditioning mass from its own bond list in a fixed order.
    pub(super) fn compute_forces(&mut self) {
        let nc = self.c.i.len();
        let (c, fb, pos, lbox, law, mu) =
            (&self.c, &self.fb, &self.pos, self.lbox, &self.law, self.mu);
        let (ec, ef) = self.eval.split_at_mut(nc);
        for_chunks(ec, |off, chunk| {
            for (q, e) in chunk.iter_mut().enumerate() {
                let k = off + q;
                let (i, j) = (c.i[k] as usize, c.j[k] as usize);
                let im = c.img[k];
                let b = [
                    pos[j][0] - pos[i][0] + im[0] * lbox[0],
                    pos[j][1] - pos[i][1] + im[1] * lbox[1],
                    pos[j][2] - pos[i][2],
                ];
                *e = contact_bond(
                    b, c.b0[k], c.d0[k], c.kn[k], c.kt[k], c.fc[k], mu, c.alive[k],
                );
            }
        });
        for_chunks(ef, |off, chunk| {
            for (q, e) in chunk.iter_mut().enumerate() {
                let k = off + q;
                if !fb.alive[k] {
                    *e = BondEval::default();
                    continue;
                }
                let (a, b) = (fb.a[k] as usize, fb.b[k] as usize);
                let (oa, ob, im) = (fb.oa[k], fb.ob[k], fb.img[k]);
                let v = [
                    pos[b][0] + ob[0] - pos[a][0] - oa[0] + im[0] * lbox[0],
                    pos[b][1] + ob[1] - pos[a][1] - oa[1] + im[1] * lbox[1],
                    pos[b][2] + ob[2] - pos[a][2] - oa[2],
                ];
                let len = norm(v);
                let out = fibril_load(len, fb.state[k], law);
                let (f, ratio, stiff) = if out.tension > 0.0 && len > 0.0 {
                    // All strands of a bundle carry the same load and fail together.
                    let nb = fb.count[k];
                    let t = nb * out.tension / len;
                    let (rb, rd) = failure_ratios(out.tension, out.state.radius, law);
                    (
                        [t * v[0], t * v[1], t * v[2]],
                        rb.max(rd),
                        nb * out.state.stiffness(law),
                    )
                } else if out.tension.is_nan() {
                    ([f64::NAN; 3], f64::NAN, 0.0)
                } else {
                    ([0.0; 3], 0.0, 0.0)
                };
                let b = [
                    v[0] - ob[0] + oa[0],
                    v[1] - ob[1] + oa[1],
                    v[2] - ob[2] + oa[2],
                ];
                *e = BondEval {
                    f,
                    b,
                    ratio,
                    len,
                    stiff,
                };
            }
        });
        let (eval, adj, start, cl) = (&self.eval, &self.adj, &self.adj_start, &self.cluster);
        for_chunks2(&mut self.force, &mut self.mass, |off, fs, ms| {
            for (q, (f, m)) in fs.iter_mut().zip(ms.iter_mut()).enumerate() {
                let p = off + q;
                let mut s = [0.0; 3];
                let mut k = 0.0;
                for &(g, _, sign) in &adj[start[p]..start[p + 1]] {
                    let e = &eval[g as usize];
                    s[0] += sign * e.f[0];
                    s[1] += sign * e.f[1];
                    s[2] += sign * e.f[2];
                    k += e.stiff;
                }
                *f = s;
                *m = k;
            }
        });
        for_chunks(&mut self.soft, |off, ks| {
            for (q, k) in ks.iter_mut().enumerate() {
                let p = off + q;
                let mut s = 0.0;
                for &(g, other, _) in &adj[start[p]..start[p + 1]] {
                    if cl[other as usize] != cl[p] {
                        s += eval[g as usize].stiff;
                    }
                }
                *k = s;
            }
        });
        self.compute_acc();
    }

    /// Group particles into clusters joined by intact contacts (union–find; labels in order of
    /// the lowest particle index, so independent of threads).
    pub(super) fn build_clusters(&mut self) {
        let n = self.n;
        let mut uf = crate::numerics::UnionFind::new(n);
        for k in 0..self.c.i.len() {
            if self.c.alive[k] {
                uf.union(self.c.i[k], self.c.j[k]);
            }
        }
        let mut label = vec![u32::MAX; n];
        let mut ncl = 0u32;
        for p in 0..n {
            let r = uf.find(p as u32) as usize;
            if label[r] == u32::MAX {
                label[r] = ncl;
                ncl += 1;
            }
            self.cluster[p] = label[r];
        }
        let mut start = vec![0usize; ncl as usize + 1];
        for &c in &self.cluster {
            start[c as usize + 1] += 1;
        }
        for c in 0..ncl as usize {
            start[c + 1] += start[c];
        }
        let mut fill = start.clone();
        let mut members = vec![0u32; n];
        for p in 0..n {
            let c = self.cluster[p] as usize;
            members[fill[c]] = p as u32;
            fill[c] += 1;
        }
        self.cl_start = start;
        self.cl_members = members;
        self.cl_acc = vec![[0.0; 3]; ncl as usize];
    }
}
