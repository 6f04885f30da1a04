//! Physical constants and conversions of the metal unit system (Å, eV, fs, amu, K).
//!
//! Sources: CODATA 2018 exact SI values of k_B and e; the atomic mass constant m_u = 1.66053906660e-27 kg
//! (CODATA 2018).

/// Boltzmann's constant k_B in eV/K (CODATA 2018, exact: 1.380649e-23 J/K / 1.602176634e-19 J/eV).
pub const KB_EV_K: f64 = 8.617_333_262e-5;

/// 1 amu·Å²/fs² in eV: m_u · (1e-10 m)² / (1e-15 s)² / e = 1.66053906660e-17 J / 1.602176634e-19 J/eV
/// ≈ 103.6427 eV. Kinetic energy K = ½ Σ m v² · `MVV_TO_EV` (m in amu, v in Å/fs).
pub const MVV_TO_EV: f64 = 1.660_539_066_60e-17 / 1.602_176_634e-19;

/// 1 eV/Å³ in GPa (1.602176634e-19 J / 1e-30 m³ = 160.2176634 GPa).
pub const EV_A3_TO_GPA: f64 = 160.217_663_4;

/// Acceleration a = F/m in Å/fs² of a force F (eV/Å) on mass m (amu): a = F / (m · `MVV_TO_EV`).
#[inline]
pub fn acceleration(force: f64, mass: f64) -> f64 {
    force / (mass * MVV_TO_EV)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ASE time unit Å·√(amu/eV) is 1/√MVV_TO_EV fs ≈ 0.09822694788 ASE units per fs
    /// (`gbion_atoms::io::extxyz::ASE_FS`); ASE uses CODATA 2014 constants, 4e-9 relative away.
    #[test]
    fn mass_velocity_conversion_matches_ase_time_unit() {
        let ase_fs = 1.0 / MVV_TO_EV.sqrt();
        assert!(
            (ase_fs / gbion_atoms::io::extxyz::ASE_FS - 1.0).abs() < 1e-8,
            "{ase_fs}"
        );
    }
}
