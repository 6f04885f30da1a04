//! Time integration: velocity Verlet (NVE), Langevin dynamics by the BAOAB splitting (NVT) and the
//! Nosé–Hoover chain (NVT), with fixed atoms (the `fixed` tag) held at rest.
//!
//! Units: positions Å, velocities Å/fs, forces eV/Å, masses amu, time fs, a = F / (m · MVV_TO_EV) Å/fs².
//!
//! - Velocity Verlet (Swope, Andersen, Berens & Wilson, J. Chem. Phys. 76, 637 (1982)):
//!   v ← v + (Δt/2) a; x ← x + Δt v; a ← F(x)/m; v ← v + (Δt/2) a. Conserved: H = E_pot + K; the energy
//!   error is O(Δt²).
//! - Langevin BAOAB (Leimkuhler & Matthews, Appl. Math. Res. Express 2013, 34; J. Chem. Phys. 138,
//!   174102 (2013)): B = half kick, A = half drift, O = exact Ornstein–Uhlenbeck step
//!   v ← c₁ v + √((1 − c₁²) k_B T / m) ξ with c₁ = exp(−γ Δt), γ the friction (1/fs), ξ ~ N(0, 1).
//!   The reported conserved quantity is H + Σ (K before O − K after O), the energy the bath has taken out
//!   (Bussi & Parrinello, Phys. Rev. E 75, 056707 (2007) use the same bookkeeping); its drift measures
//!   the integration error only.
//! - Nosé–Hoover chain of length M (Martyna, Klein & Tuckerman, J. Chem. Phys. 97, 2635 (1992)),
//!   integrated as Martyna, Tuckerman, Tobias & Klein, Mol. Phys. 87, 1117 (1996), with a Suzuki–Yoshida
//!   fourth-order factorisation (weights w₁ = w₃ = 1/(2 − 2^{1/3}), w₂ = 1 − 2w₁) of the thermostat half
//!   steps around a velocity Verlet step. Masses Q₁ = N_f k_B T τ², Q_j = k_B T τ² (eV·fs²), τ the
//!   thermostat period (fs). Forces on the thermostats: G₁ = (2K − N_f k_B T)/Q₁,
//!   G_j = (Q_{j−1} v_{j−1}² − k_B T)/Q_j. Conserved:
//!   H + Σ_j ½ Q_j v_j² + N_f k_B T ξ₁ + k_B T Σ_{j≥2} ξ_j.

use crate::engine::Engine;
use crate::units::{KB_EV_K, MVV_TO_EV};
use crate::velocities::{degrees_of_freedom, free_mask, kinetic_energy};
use crate::{Error, Result};
use gbion_atoms::{Structure, Vec3};
use gbion_potentials::Request;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// The dynamical state: the structure (positions never wrapped, so they are the unwrapped trajectory;
/// velocities present), forces, energies and the step counter.
#[derive(Clone, Debug)]
pub struct MdState {
    pub structure: Structure,
    /// Forces at the current positions (eV/Å).
    pub forces: Vec<Vec3>,
    /// Potential energy at the current positions (eV).
    pub potential_energy: f64,
    /// Stress (eV/Å³, ASE sign) when the last evaluation asked for it.
    pub stress: Option<[f64; 6]>,
    /// `false` for fixed atoms.
    pub free: Vec<bool>,
    /// Steps taken.
    pub step: u64,
}

impl MdState {
    /// A state for `structure` (zero velocities when it has none), with forces evaluated by `engine`.
    pub fn new(mut structure: Structure, engine: &mut Engine, stress: bool) -> Result<MdState> {
        structure.validate()?;
        if structure.is_empty() {
            return Err(Error::Invalid("the structure has no atoms".into()));
        }
        let free = free_mask(&structure);
        let velocities = structure.velocities.get_or_insert_with(|| vec![[0.0; 3]; free.len()]);
        for (v, &f) in velocities.iter_mut().zip(&free) {
            if !f {
                *v = [0.0; 3];
            }
        }
        let mut state = MdState {
            structure,
            forces: Vec::new(),
            potential_energy: 0.0,
            stress: None,
            free,
            step: 0,
        };
        state.evaluate(engine, stress)?;
        Ok(state)
    }

    /// Recompute energy and forces (and stress when asked) at the current positions.
    pub fn evaluate(&mut self, engine: &mut Engine, stress: bool) -> Result<()> {
        let request = Request {
            forces: true,
            stress: stress && self.structure.cell.pbc().iter().all(|&p| p),
            energies: false,
        };
        let out = engine.compute(&self.structure, request)?;
        self.potential_energy = out.energy;
        self.forces = out
            .forces
            .ok_or_else(|| Error::Invalid("the potential returned no forces".into()))?;
        self.stress = out.stress;
        Ok(())
    }

    /// Velocities (Å/fs).
    pub fn velocities(&self) -> &[Vec3] {
        self.structure.velocities.as_deref().unwrap_or(&[])
    }

    /// Kinetic energy K (eV).
    pub fn kinetic_energy(&self) -> f64 {
        kinetic_energy(&self.structure.masses, self.velocities())
    }

    /// Pressure (GPa-free, eV/Å³): P = 2K/(3V) − tr(σ)/3 with σ the potential stress (ASE sign), or `None`
    /// without a stress or volume.
    pub fn pressure(&self) -> Option<f64> {
        let sigma = self.stress?;
        let volume = self.structure.cell.volume();
        (volume > 0.0).then(|| 2.0 * self.kinetic_energy() / (3.0 * volume) - (sigma[0] + sigma[1] + sigma[2]) / 3.0)
    }

    /// v ← v + h·a for the free atoms.
    fn kick(&mut self, h: f64) {
        let masses = &self.structure.masses;
        let v = self.structure.velocities.as_mut().expect("MdState has velocities");
        for (i, vi) in v.iter_mut().enumerate() {
            if self.free[i] {
                let s = h / (masses[i] * MVV_TO_EV);
                for (vc, fc) in vi.iter_mut().zip(self.forces[i]) {
                    *vc += s * fc;
                }
            }
        }
    }

    /// x ← x + h·v for the free atoms.
    fn drift(&mut self, h: f64) {
        let v = self.structure.velocities.as_ref().expect("MdState has velocities");
        for (i, (x, vi)) in self.structure.positions.iter_mut().zip(v).enumerate() {
            if self.free[i] {
                for (xc, vc) in x.iter_mut().zip(vi) {
                    *xc += h * vc;
                }
            }
        }
    }

    /// v ← s·v for all atoms.
    fn scale_velocities(&mut self, s: f64) {
        for v in self.structure.velocities.as_mut().expect("MdState has velocities") {
            *v = v.map(|x| x * s);
        }
    }
}

/// The thermostat and its state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Thermostat {
    /// None: NVE.
    None,
    /// Langevin BAOAB at `temperature` (K) with friction `friction` (1/fs); `bath_work` is the energy the
    /// O steps have removed so far (eV).
    Langevin {
        #[serde(with = "crate::checkpoint::exact")]
        temperature: f64,
        #[serde(with = "crate::checkpoint::exact")]
        friction: f64,
        #[serde(with = "crate::checkpoint::exact")]
        bath_work: f64,
    },
    /// Nosé–Hoover chain at `temperature` (K) with period `tau` (fs): positions ξ_j, velocities v_j (1/fs).
    NoseHoover {
        #[serde(with = "crate::checkpoint::exact")]
        temperature: f64,
        #[serde(with = "crate::checkpoint::exact")]
        tau: f64,
        #[serde(with = "crate::checkpoint::exact_vec")]
        xi: Vec<f64>,
        #[serde(with = "crate::checkpoint::exact_vec")]
        v_xi: Vec<f64>,
    },
}

impl Thermostat {
    /// Langevin at `temperature` K with friction γ = 1/`damping_fs`.
    pub fn langevin(temperature: f64, damping_fs: f64) -> Thermostat {
        Thermostat::Langevin {
            temperature,
            friction: 1.0 / damping_fs,
            bath_work: 0.0,
        }
    }

    /// A Nosé–Hoover chain of `length` thermostats at `temperature` K with period `tau_fs`.
    pub fn nose_hoover(temperature: f64, tau_fs: f64, length: usize) -> Thermostat {
        Thermostat::NoseHoover {
            temperature,
            tau: tau_fs,
            xi: vec![0.0; length.max(1)],
            v_xi: vec![0.0; length.max(1)],
        }
    }

    /// Whether the dynamics conserves total momentum (all but Langevin).
    pub fn conserves_momentum(&self) -> bool {
        !matches!(self, Thermostat::Langevin { .. })
    }

    /// The target temperature (K), if any.
    pub fn temperature(&self) -> Option<f64> {
        match self {
            Thermostat::None => None,
            Thermostat::Langevin { temperature, .. } | Thermostat::NoseHoover { temperature, .. } => Some(*temperature),
        }
    }
}

/// Suzuki–Yoshida fourth-order weights.
fn suzuki_yoshida() -> [f64; 3] {
    let w1 = 1.0 / (2.0 - 2f64.powf(1.0 / 3.0));
    [w1, 1.0 - 2.0 * w1, w1]
}

/// Stochastic cell rescaling (Bernetti & Bussi, J. Chem. Phys. 153, 114107 (2020)) at the thermostat's
/// temperature T: over each step Δt, with ε = ln V (isotropic) or ε_a = ln L_a along each Cartesian axis
/// (anisotropic, diagonal),
/// Δε = −(β_T/τ_p)(P₀ − P_int)Δt + √(2 k_BT β_T Δt / (V τ_p)) ξ,
/// with P_int = 2K/(3V) − tr(σ)/3 (isotropic) or P_aa = 2K_aa/V − σ_aa (anisotropic), σ the ASE stress
/// of the potential, K_aa = ½Σ m v_a². The cell and the positions are scaled by λ = exp(Δε/3) (per axis
/// exp(Δε_a)), the velocities by 1/λ. Applied after the drift of each step, using the stress of the last
/// force evaluation; forces then come from the scaled positions. Units: P₀ eV/Å³, β_T Å³/eV, τ_p fs.
///
/// No k_BT/V term in the drift of ε, and rightly so. Written for V, the same process reads
/// dV = −(β_T V/τ_p)(P₀ − P_int − k_BT/V)dt + √(2k_BT β_T V/τ_p) dW: there −k_BT/V is the Itô drift of the
/// V-dependent noise, and Itô's lemma for ε = ln V, dε = dV/V − (dV)²/(2V²), subtracts exactly
/// k_BT β_T/(V τ_p) dt, leaving the ε equation above without it. (A k_BT/V term belongs to the V form; in
/// the ε form it double-counts.) Directly: the barostat
/// moves ε at fixed scaled positions and scaled momenta (velocities scaled by 1/λ), in which coordinates the
/// isothermal–isobaric density is p(ε | s, π) ∝ V e^{−β(K + U + P₀V)}, K = Σπ²/(2mV^{2/3}); zero probability
/// flux for dε = A dt + √(2D) dW with D = k_BT β_T/(V τ_p) needs A = D ∂_ε ln p + ∂_ε D
/// = −(β_T/τ_p)(P₀ − P_int), with P_int the instantaneous 2K/(3V) + virial. For an ideal gas this samples
/// p(V) ∝ V^N e^{−βP₀V} (measure dV): ⟨V⟩ = (N+1)k_BT/P₀, Var V = (N+1)(k_BT/P₀)²; writing −k_BT/V into the
/// ε equation as well would give V^{N+1} and ⟨V⟩ = (N+2)k_BT/P₀. Checked for the test's 20-atom gas (300 K,
/// P₀ = 5·10⁻⁴ eV/Å³, τ_p 200 fs, Δt 5 fs, Langevin 100 fs) by integrating this scheme for 4000 independent
/// replicas outside gbion: ⟨V⟩ = 1087.3 ± 0.4 Å³ against (N+1)k_BT/P₀ = 1085.8, and 1139.0 ± 0.4 with the
/// extra term against (N+2)k_BT/P₀ = 1137.5; gbion's own run (test `npt`) gives 1076 ± 5.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Barostat {
    /// Target pressure P₀ (eV/Å³, positive compresses).
    pub pressure: f64,
    /// Relaxation time τ_p (fs).
    pub tau: f64,
    /// Isothermal compressibility β_T (Å³/eV).
    pub compressibility: f64,
    /// Each Cartesian axis separately (the cell must be orthorhombic-compatible for meaningful results).
    pub anisotropic: bool,
}

impl Barostat {
    /// Rescale the cell, positions and velocities of `state` over `dt` at temperature `temperature` (K).
    fn apply(&self, state: &mut MdState, temperature: f64, dt: f64, rng: &mut Xoshiro256PlusPlus) -> Result<()> {
        let sigma = state
            .stress
            .ok_or_else(|| Error::Invalid("the barostat needs a stress (a cell periodic in 3D)".into()))?;
        let volume = state.structure.cell.volume();
        let kt = KB_EV_K * temperature;
        let rate = self.compressibility / self.tau;
        let noise = (2.0 * kt * rate * dt / volume).sqrt();
        let mut k_diag = [0.0; 3];
        for (m, v) in state.structure.masses.iter().zip(state.velocities()) {
            for a in 0..3 {
                k_diag[a] += 0.5 * MVV_TO_EV * m * v[a] * v[a];
            }
        }
        let mut scale = [1.0; 3];
        if self.anisotropic {
            for a in 0..3 {
                let p_int = 2.0 * k_diag[a] / volume - sigma[a];
                let xi: f64 = StandardNormal.sample(rng);
                let d = -rate * (self.pressure - p_int) * dt + noise * xi;
                scale[a] = d.exp();
            }
        } else {
            let k: f64 = k_diag.iter().sum();
            let p_int = 2.0 * k / (3.0 * volume) - (sigma[0] + sigma[1] + sigma[2]) / 3.0;
            let xi: f64 = StandardNormal.sample(rng);
            let d = -rate * (self.pressure - p_int) * dt + noise * xi;
            scale = [(d / 3.0).exp(); 3];
        }
        let m = *state.structure.cell.matrix();
        let scaled = m.map(|row| [row[0] * scale[0], row[1] * scale[1], row[2] * scale[2]]);
        state.structure.cell = gbion_atoms::Cell::new(scaled, state.structure.cell.pbc())?;
        for x in &mut state.structure.positions {
            for a in 0..3 {
                x[a] *= scale[a];
            }
        }
        for v in state.structure.velocities.as_mut().expect("MdState has velocities") {
            for a in 0..3 {
                v[a] /= scale[a];
            }
        }
        Ok(())
    }
}

/// An integrator: time step, thermostat and optional barostat.
#[derive(Clone, Debug, PartialEq)]
pub struct Integrator {
    /// Δt (fs).
    pub dt: f64,
    pub thermostat: Thermostat,
    /// NPT by stochastic cell rescaling (needs a thermostat).
    pub barostat: Option<Barostat>,
}

impl Integrator {
    /// An NVE or NVT integrator.
    pub fn new(dt: f64, thermostat: Thermostat) -> Integrator {
        Integrator {
            dt,
            thermostat,
            barostat: None,
        }
    }

    /// Whether every force evaluation must give the stress too (with a barostat).
    pub fn needs_stress(&self) -> bool {
        self.barostat.is_some()
    }

    /// The barostat step between the drift and the force evaluation, then the evaluation.
    fn rescale_and_evaluate(
        barostat: Option<Barostat>,
        temperature: Option<f64>,
        state: &mut MdState,
        engine: &mut Engine,
        rng: &mut Xoshiro256PlusPlus,
        dt: f64,
        stress: bool,
    ) -> Result<()> {
        if let Some(b) = barostat {
            let t = temperature.ok_or_else(|| Error::Invalid("a barostat needs a thermostat temperature".into()))?;
            b.apply(state, t, dt, rng)?;
        }
        state.evaluate(engine, stress || barostat.is_some())
    }
    /// Degrees of freedom of `state` under this integrator.
    pub fn dof(&self, state: &MdState) -> usize {
        degrees_of_freedom(&state.free, self.thermostat.conserves_momentum())
    }

    /// Instantaneous temperature (K).
    pub fn temperature(&self, state: &MdState) -> f64 {
        crate::velocities::temperature(state.kinetic_energy(), self.dof(state))
    }

    /// The conserved quantity (eV): H plus the thermostat's terms (see the module documentation), plus P₀V
    /// with a barostat (then it is not conserved: the barostat's noise and friction are not booked).
    pub fn conserved(&self, state: &MdState) -> f64 {
        let mut h = state.potential_energy + state.kinetic_energy();
        if let Some(b) = &self.barostat {
            h += b.pressure * state.structure.cell.volume();
        }
        match &self.thermostat {
            Thermostat::None => h,
            Thermostat::Langevin { bath_work, .. } => h + bath_work,
            Thermostat::NoseHoover {
                temperature,
                tau,
                xi,
                v_xi,
            } => {
                let kt = KB_EV_K * temperature;
                let q = nhc_masses(self.dof(state), kt, *tau, xi.len());
                let mut e = h;
                for j in 0..xi.len() {
                    e += 0.5 * q[j] * v_xi[j] * v_xi[j];
                    e += if j == 0 {
                        self.dof(state) as f64 * kt * xi[0]
                    } else {
                        kt * xi[j]
                    };
                }
                e
            }
        }
    }

    /// Advance `state` by one step; `stress` asks the force evaluation for the stress too.
    pub fn step(
        &mut self,
        state: &mut MdState,
        engine: &mut Engine,
        rng: &mut Xoshiro256PlusPlus,
        stress: bool,
    ) -> Result<()> {
        let dt = self.dt;
        let dof = self.dof(state);
        let barostat = self.barostat;
        let t_baro = self.thermostat.temperature();
        match &mut self.thermostat {
            Thermostat::None => {
                state.kick(0.5 * dt);
                state.drift(dt);
                Self::rescale_and_evaluate(barostat, t_baro, state, engine, rng, dt, stress)?;
                state.kick(0.5 * dt);
            }
            Thermostat::Langevin {
                temperature,
                friction,
                bath_work,
            } => {
                state.kick(0.5 * dt);
                state.drift(0.5 * dt);
                let before = state.kinetic_energy();
                let c1 = (-*friction * dt).exp();
                let c2 = (1.0 - c1 * c1).sqrt();
                let kt = KB_EV_K * *temperature;
                let masses = &state.structure.masses;
                let v = state.structure.velocities.as_mut().expect("MdState has velocities");
                for i in 0..v.len() {
                    if state.free[i] {
                        let sigma = c2 * (kt / (masses[i] * MVV_TO_EV)).sqrt();
                        for vc in v[i].iter_mut() {
                            let xi: f64 = StandardNormal.sample(rng);
                            *vc = c1 * *vc + sigma * xi;
                        }
                    }
                }
                *bath_work += before - state.kinetic_energy();
                state.drift(0.5 * dt);
                Self::rescale_and_evaluate(barostat, t_baro, state, engine, rng, dt, stress)?;
                state.kick(0.5 * dt);
            }
            Thermostat::NoseHoover {
                temperature,
                tau,
                xi,
                v_xi,
            } => {
                let kt = KB_EV_K * *temperature;
                let q = nhc_masses(dof, kt, *tau, xi.len());
                nhc_half_step(state, dof, kt, &q, xi, v_xi, 0.5 * dt);
                state.kick(0.5 * dt);
                state.drift(dt);
                Self::rescale_and_evaluate(barostat, t_baro, state, engine, rng, dt, stress)?;
                state.kick(0.5 * dt);
                nhc_half_step(state, dof, kt, &q, xi, v_xi, 0.5 * dt);
            }
        }
        state.step += 1;
        Ok(())
    }
}

/// Q₁ = N_f k_B T τ², Q_j = k_B T τ² (eV·fs²).
fn nhc_masses(dof: usize, kt: f64, tau: f64, length: usize) -> Vec<f64> {
    (0..length)
        .map(|j| {
            if j == 0 {
                dof.max(1) as f64 * kt * tau * tau
            } else {
                kt * tau * tau
            }
        })
        .collect()
}

/// Propagate the chain and scale the particle velocities over `h` (half a time step), MTTK 1996 with
/// Suzuki–Yoshida weights.
fn nhc_half_step(state: &mut MdState, dof: usize, kt: f64, q: &[f64], xi: &mut [f64], v: &mut [f64], h: f64) {
    let m = xi.len();
    let mut kin2 = 2.0 * state.kinetic_energy();
    let mut scale = 1.0;
    let force = |j: usize, v: &[f64], kin2: f64| -> f64 {
        if j == 0 {
            (kin2 - dof as f64 * kt) / q[0]
        } else {
            (q[j - 1] * v[j - 1] * v[j - 1] - kt) / q[j]
        }
    };
    for w in suzuki_yoshida() {
        let d = w * h;
        v[m - 1] += 0.5 * d * force(m - 1, v, kin2);
        for j in (0..m - 1).rev() {
            let e = (-0.25 * d * v[j + 1]).exp();
            v[j] = (v[j] * e + 0.5 * d * force(j, v, kin2)) * e;
        }
        let s = (-d * v[0]).exp();
        scale *= s;
        kin2 *= s * s;
        for j in 0..m {
            xi[j] += d * v[j];
        }
        for j in 0..m - 1 {
            let e = (-0.25 * d * v[j + 1]).exp();
            v[j] = (v[j] * e + 0.5 * d * force(j, v, kin2)) * e;
        }
        v[m - 1] += 0.5 * d * force(m - 1, v, kin2);
    }
    state.scale_velocities(scale);
}
