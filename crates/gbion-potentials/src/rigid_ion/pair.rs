//! Short-range pair terms φ(r) of rigid-ion models and how they end at the cutoff.
//!
//! Forms (r in Å, energies in eV), each as LAMMPS writes it so parameter sets move between the two:
//! - Buckingham (LAMMPS `buck`): φ(r) = A·exp(−r/ρ) − C/r⁶;
//! - Lennard-Jones (LAMMPS `lj/cut`): φ(r) = 4ε[(σ/r)¹² − (σ/r)⁶];
//! - Morse (LAMMPS `morse`): φ(r) = D₀[exp(−2α(r − r₀)) − 2·exp(−α(r − r₀))], which is Pedone et al.'s
//!   D[(1 − exp(−a(r − r₀)))² − 1] (J. Phys. Chem. B 110, 11780 (2006), eq. 1);
//! - inverse twelfth power: φ(r) = B/r¹² (the core repulsion of Pedone et al. 2006, eq. 1).
//!
//! A pair's φ is the sum of the forms given for it. Cutoff treatments ([`CutoffMode`]) and their LAMMPS
//! equivalents:
//! - `Cut`: φ(r) for r < r_c, 0 beyond (LAMMPS default, `pair_modify shift no`);
//! - `Shift`: φ(r) − φ(r_c) for r < r_c; forces unchanged (LAMMPS `pair_modify shift yes`);
//! - `Taper`: φ(r)·τ(x), x = (r − r_in)/(r_c − r_in), τ = (1 − x)³(1 + 3x + 6x²) for r_in < r < r_c, so
//!   energy, force and force derivative go smoothly to zero (the "MDF" taper of LAMMPS `buck/mdf`,
//!   `lj/mdf`, `lennard/mdf`; Mei, Davenport & Fernando, Phys. Rev. B 43, 4653 (1991)).

/// One analytic pair form; see the module documentation for the formulas.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PairForm {
    /// A·exp(−r/ρ) − C/r⁶: `a` (eV), `rho` (Å), `c` (eV·Å⁶).
    Buckingham { a: f64, rho: f64, c: f64 },
    /// 4ε[(σ/r)¹² − (σ/r)⁶]: `epsilon` (eV), `sigma` (Å).
    LennardJones { epsilon: f64, sigma: f64 },
    /// D₀[exp(−2α(r − r₀)) − 2·exp(−α(r − r₀))]: `d0` (eV), `alpha` (1/Å), `r0` (Å).
    Morse { d0: f64, alpha: f64, r0: f64 },
    /// B/r¹²: `b` (eV·Å¹²).
    InverseTwelve { b: f64 },
}

impl PairForm {
    /// (φ(r), dφ/dr) in eV and eV/Å.
    #[inline]
    pub fn energy_and_derivative(&self, r: f64) -> (f64, f64) {
        match *self {
            PairForm::Buckingham { a, rho, c } => {
                let repulsion = a * (-r / rho).exp();
                let r2 = r * r;
                let dispersion = c / (r2 * r2 * r2);
                (repulsion - dispersion, -repulsion / rho + 6.0 * dispersion / r)
            }
            PairForm::LennardJones { epsilon, sigma } => {
                let s2 = sigma * sigma / (r * r);
                let s6 = s2 * s2 * s2;
                let s12 = s6 * s6;
                (4.0 * epsilon * (s12 - s6), 4.0 * epsilon * (6.0 * s6 - 12.0 * s12) / r)
            }
            PairForm::Morse { d0, alpha, r0 } => {
                let e = (-alpha * (r - r0)).exp();
                (d0 * (e * e - 2.0 * e), 2.0 * alpha * d0 * (e - e * e))
            }
            PairForm::InverseTwelve { b } => {
                let inv2 = 1.0 / (r * r);
                let inv6 = inv2 * inv2 * inv2;
                let energy = b * inv6 * inv6;
                (energy, -12.0 * energy / r)
            }
        }
    }
}

/// How pair terms end at the cutoff (see the module documentation for the LAMMPS equivalents).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CutoffMode {
    /// Plain truncation.
    Cut,
    /// Energy shifted by −φ(r_c).
    Shift,
    /// MDF taper from `inner` (Å) to the cutoff.
    Taper { inner: f64 },
}

/// The short-range interaction of one pair of species: a sum of forms, its cutoff and cutoff treatment.
#[derive(Clone, Debug, PartialEq)]
pub struct PairTerm {
    forms: Vec<PairForm>,
    cutoff: f64,
    mode: CutoffMode,
    /// φ(r_c), subtracted in `Shift` mode (0 otherwise).
    offset: f64,
}

impl PairTerm {
    /// A pair term from its forms, cutoff r_c (Å) and cutoff treatment.
    pub fn new(forms: Vec<PairForm>, cutoff: f64, mode: CutoffMode) -> PairTerm {
        let mut term = PairTerm {
            forms,
            cutoff,
            mode,
            offset: 0.0,
        };
        if mode == CutoffMode::Shift {
            term.offset = term.bare(cutoff).0;
        }
        term
    }

    /// The forms summed in this term.
    pub fn forms(&self) -> &[PairForm] {
        &self.forms
    }

    /// r_c (Å).
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }

    /// Σ forms: (φ(r), dφ/dr) without cutoff treatment.
    #[inline]
    fn bare(&self, r: f64) -> (f64, f64) {
        self.forms.iter().fold((0.0, 0.0), |(e, d), form| {
            let (fe, fd) = form.energy_and_derivative(r);
            (e + fe, d + fd)
        })
    }

    /// (A, ρ, C, offset) when this term is a single Buckingham form, cut or shifted (offset φ(r_c) or 0):
    /// the case the rigid-ion evaluation loop handles inline, with the same arithmetic as
    /// [`PairTerm::energy_and_derivative`].
    pub(crate) fn lone_buckingham(&self) -> Option<(f64, f64, f64, f64)> {
        match (self.forms.as_slice(), self.mode) {
            ([PairForm::Buckingham { a, rho, c }], CutoffMode::Cut | CutoffMode::Shift) => {
                Some((*a, *rho, *c, self.offset))
            }
            _ => None,
        }
    }

    /// (E(r), dE/dr) with the cutoff treatment applied; (0, 0) at and beyond r_c.
    #[inline]
    pub fn energy_and_derivative(&self, r: f64) -> (f64, f64) {
        if r >= self.cutoff {
            return (0.0, 0.0);
        }
        let (energy, derivative) = self.bare(r);
        match self.mode {
            CutoffMode::Cut => (energy, derivative),
            CutoffMode::Shift => (energy - self.offset, derivative),
            CutoffMode::Taper { inner } if r > inner => {
                let width = self.cutoff - inner;
                let x = (r - inner) / width;
                let one_minus = 1.0 - x;
                let taper = one_minus * one_minus * one_minus * (1.0 + 3.0 * x + 6.0 * x * x);
                let taper_slope = -30.0 * x * x * one_minus * one_minus / width;
                (energy * taper, derivative * taper + energy * taper_slope)
            }
            CutoffMode::Taper { .. } => (energy, derivative),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP: f64 = 1e-5;

    fn central_difference(term: &PairTerm, r: f64) -> f64 {
        (term.energy_and_derivative(r + STEP).0 - term.energy_and_derivative(r - STEP).0) / (2.0 * STEP)
    }

    fn all_forms() -> Vec<PairForm> {
        vec![
            PairForm::Buckingham {
                a: 1345.15,
                rho: 0.3,
                c: 12.3,
            },
            PairForm::LennardJones {
                epsilon: 0.01,
                sigma: 2.5,
            },
            PairForm::Morse {
                d0: 0.05,
                alpha: 1.9,
                r0: 2.3,
            },
            PairForm::InverseTwelve { b: 1.5 },
        ]
    }

    #[test]
    fn derivatives_match_central_differences_in_every_mode() {
        for mode in [CutoffMode::Cut, CutoffMode::Shift, CutoffMode::Taper { inner: 4.0 }] {
            for form in all_forms() {
                let term = PairTerm::new(vec![form], 6.0, mode);
                for r in [1.7, 2.3, 3.1, 4.5, 5.5, 5.99] {
                    let analytic = term.energy_and_derivative(r).1;
                    let numeric = central_difference(&term, r);
                    let scale = analytic.abs().max(1e-4);
                    assert!(
                        (analytic - numeric).abs() < 1e-6 * scale,
                        "{form:?} {mode:?} r={r}: {analytic} vs {numeric}"
                    );
                }
            }
        }
    }

    #[test]
    fn known_values() {
        // Morse minimum: φ(r₀) = −D₀, φ'(r₀) = 0; LJ zero at σ and minimum −ε at 2^(1/6)σ.
        let morse = PairForm::Morse {
            d0: 0.7,
            alpha: 2.0,
            r0: 2.1,
        };
        assert_eq!(morse.energy_and_derivative(2.1), (-0.7, 0.0));
        let lj = PairForm::LennardJones {
            epsilon: 0.2,
            sigma: 3.0,
        };
        assert!(lj.energy_and_derivative(3.0).0.abs() < 1e-15);
        let (e, d) = lj.energy_and_derivative(2f64.powf(1.0 / 6.0) * 3.0);
        assert!((e + 0.2).abs() < 1e-14 && d.abs() < 1e-14);
        // Buckingham at r = ρ: A/e − C/ρ⁶.
        let buck = PairForm::Buckingham {
            a: 100.0,
            rho: 0.5,
            c: 2.0,
        };
        let expected = 100.0 * (-1.0f64).exp() - 2.0 / 0.5f64.powi(6);
        assert!((buck.energy_and_derivative(0.5).0 - expected).abs() < 1e-12);
    }

    #[test]
    fn cutoff_treatments_end_where_documented() {
        let form = PairForm::Buckingham {
            a: 1000.0,
            rho: 0.3,
            c: 20.0,
        };
        let cut = PairTerm::new(vec![form], 6.0, CutoffMode::Cut);
        let shift = PairTerm::new(vec![form], 6.0, CutoffMode::Shift);
        let taper = PairTerm::new(vec![form], 6.0, CutoffMode::Taper { inner: 5.0 });
        let bare = form.energy_and_derivative(6.0 - 1e-9).0;
        assert!((cut.energy_and_derivative(6.0 - 1e-9).0 - bare).abs() < 1e-15);
        assert!(shift.energy_and_derivative(6.0 - 1e-9).0.abs() < 1e-12);
        let (e, d) = taper.energy_and_derivative(6.0 - 1e-9);
        assert!(e.abs() < 1e-20 && d.abs() < 1e-15);
        assert_eq!(taper.energy_and_derivative(4.9), cut.energy_and_derivative(4.9));
        assert_eq!(cut.energy_and_derivative(6.0), (0.0, 0.0));
    }
}
