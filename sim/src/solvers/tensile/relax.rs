//! FIRE 2.0 relaxation of the tensile model to mechanical equilibrium.

use super::*;

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

    /// FIRE 2.0 relaxation of the current configuration; leaves forces and bond evaluations
    /// up to date. Returns the iterations used.
    pub(super) fn relax(&mut self) -> Result<usize, TensileError> {
        const DT_START: f64 = 0.1;
        const DT_MAX: f64 = 0.7;
        const DT_MIN: f64 = 1e-3;
        const N_DELAY: usize = 5;
        const F_INC: f64 = 1.1;
        const F_DEC: f64 = 0.5;
        const ALPHA0: f64 = 0.25;
        const F_ALPHA: f64 = 0.99;
        self.relaxations += 1;
        self.build_clusters();
        self.vel.iter_mut().for_each(|v| *v = [0.0; 3]);
        self.compute_forces();
        self.check_finite()?;
        let tol = self.params.force_tolerance * self.f_ref;
        let (mut dt, mut alpha, mut n_pos) = (DT_START, ALPHA0, 0usize);
        for it in 0..self.params.max_iterations {
            if self.max_force() <= tol {
                self.iterations += it;
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
        self.iterations += self.params.max_iterations;
        self.unconverged += 1;
        Ok(self.params.max_iterations)
    }
}
