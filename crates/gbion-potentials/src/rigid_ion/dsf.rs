//! Damped shifted force (DSF) Coulomb: a pairwise, cutoff-local approximation of the Ewald sum
//! (Fennell & Gezelter, J. Chem. Phys. 124, 234104 (2006), eq. 18), as LAMMPS `pair_style coul/dsf α r_c`
//! evaluates it.
//!
//! Per pair (r < r_c), in units of k_e·q_i·q_j (k_e = e²/4πε₀ in eV·Å):
//! V(r) = erfc(αr)/r − erfc(αr_c)/r_c + [erfc(αr_c)/r_c² + (2α/√π)·exp(−α²r_c²)/r_c]·(r − r_c),
//! so that V and dV/dr vanish at r_c. Per atom the self term is
//! E_self,i = −k_e·q_i²·(e_shift/2 + α/√π), with e_shift = erfc(αr_c)/r_c − f_shift·r_c and
//! f_shift = −[erfc(αr_c)/r_c² + (2α/√π)·exp(−α²r_c²)/r_c]: this is ½q_i² lim_{r→0}[V(r) − 1/r], the same
//! constant LAMMPS adds (its `e_self`). With α = 0 the model is the undamped shifted-force Coulomb.
//!
//! α in 1/Å, r_c in Å. [`Dsf::pair`] is accurate to machine precision (erfc(x) = exp(−x²)·erfcx(x), the
//! Gaussian shared with the force; see [`super::erfc_and_gauss`]); the model's evaluation loop reads V and
//! dV/dr from a cubic Hermite table of it (error ≤ 1.4e-11 relative in V, ≤ 1.1e-8 relative in dV/dr at
//! 0.5 Å, falling as r⁻³ beyond; `table.rs`). LAMMPS' coul/dsf uses the Abramowitz & Stegun 7.1.26
//! polynomial (absolute error ≤ 1.5·10⁻⁷ in erfc), which bounds how closely the two can agree (see the
//! LAMMPS fixtures' README).

use std::f64::consts::FRAC_2_SQRT_PI;

/// DSF Coulomb with damping α (1/Å) and cutoff r_c (Å).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dsf {
    alpha: f64,
    cutoff: f64,
    f_shift: f64,
    e_shift: f64,
}

impl Dsf {
    /// DSF with damping `alpha` (1/Å, ≥ 0) and cutoff `cutoff` (Å, > 0).
    pub fn new(alpha: f64, cutoff: f64) -> Dsf {
        let erfc_cut = puruspe::erfc(alpha * cutoff);
        let gauss_cut = (-alpha * alpha * cutoff * cutoff).exp();
        let f_shift = -(erfc_cut / (cutoff * cutoff) + FRAC_2_SQRT_PI * alpha * gauss_cut / cutoff);
        Dsf {
            alpha,
            cutoff,
            f_shift,
            e_shift: erfc_cut / cutoff - f_shift * cutoff,
        }
    }

    /// α (1/Å).
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// r_c (Å).
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }

    /// (V(r), dV/dr) per unit k_e·q_i·q_j (1/Å, 1/Å²); (0, 0) at and beyond r_c.
    #[inline]
    pub fn pair(&self, r: f64) -> (f64, f64) {
        if r >= self.cutoff {
            return (0.0, 0.0);
        }
        let (erfc, gauss) = super::erfc_and_gauss(self.alpha * r);
        let energy = erfc / r - self.e_shift - r * self.f_shift;
        let derivative = -erfc / (r * r) - FRAC_2_SQRT_PI * self.alpha * gauss / r - self.f_shift;
        (energy, derivative)
    }

    /// Self energy per unit k_e·q_i²: −(e_shift/2 + α/√π) (1/Å).
    pub fn self_energy_per_charge_squared(&self) -> f64 {
        -(0.5 * self.e_shift + 0.5 * FRAC_2_SQRT_PI * self.alpha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn potential_and_force_vanish_at_the_cutoff_and_derivative_is_consistent() {
        let dsf = Dsf::new(0.2, 9.0);
        let (e, d) = dsf.pair(9.0 - 1e-9);
        assert!(e.abs() < 1e-12 && d.abs() < 1e-9, "{e} {d}");
        let h = 1e-5;
        for r in [1.5, 2.7, 5.0, 8.5] {
            let numeric = (dsf.pair(r + h).0 - dsf.pair(r - h).0) / (2.0 * h);
            assert!((numeric - dsf.pair(r).1).abs() < 1e-8, "r={r}");
        }
    }

    #[test]
    fn undamped_limit_is_shifted_force_coulomb() {
        // α = 0: V = 1/r − 1/r_c + (r − r_c)/r_c², self = −1/r_c.
        let dsf = Dsf::new(0.0, 10.0);
        let r = 3.0;
        let expected = 1.0 / r - 0.1 + (r - 10.0) / 100.0;
        assert!((dsf.pair(r).0 - expected).abs() < 1e-15);
        assert!((dsf.self_energy_per_charge_squared() + 0.1).abs() < 1e-15);
    }
}
