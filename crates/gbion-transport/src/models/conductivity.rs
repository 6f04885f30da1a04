//! Conductivity ↔ diffusion: apparent vs specific GB conductivity (brick layer, paper 000), the
//! Nernst–Einstein relation between a conductivity and a diffusion coefficient, and the Haven ratio
//! H_R ≡ D*/D_σ (paper 003).
//!
//! Units in the names: n in cm⁻³, σ in S/cm, D in cm²/s, T in K. With these,
//! σ = n q² D / (k_B T) holds without conversion factors (C² cm⁻³ cm² s⁻¹ J⁻¹ = S/cm).

use super::{ModelError, positive};

/// Boltzmann constant k_B in J/K (exact, SI 2019).
pub const BOLTZMANN_J_K: f64 = 1.380_649e-23;
/// Elementary charge q in C (exact, SI 2019); a Li⁺ ion carries one.
pub const ELEMENTARY_CHARGE_C: f64 = 1.602_176_634e-19;
/// Li number density of Li₀.₂₉La₀.₅₇TiO₃ used by paper 003 for Nernst–Einstein, in cm⁻³.
/// The extracted paper text reads "5.0 × 10⁻²¹ cm⁻³": the exponent's sign is an extraction/typesetting
/// error. 0.29 Li per perovskite cell of a ≈ 3.87 Å gives 0.29/(3.87e-8 cm)³ ≈ 5.0 × 10²¹ cm⁻³, and only
/// the positive exponent turns LLTO's bulk σ ≈ 10⁻³ S/cm into a D_σ near the PFG-NMR 2.6 × 10⁻⁸ cm²/s.
pub const LLTO_LI_DENSITY_CM3: f64 = 5.0e21;

/// Specific GB conductivity from the apparent one (σ_gb measured with the sample's geometry) in the
/// brick-layer model (paper 000; Haile et al., Acta Mater. 1998): the GBs occupy only δ/l of the length,
/// so σ_gb,specific = σ_gb,apparent · δ/l.
pub fn specific_gb_conductivity_from_geometry(
    sigma_apparent: f64,
    delta: f64,
    grain_size: f64,
) -> Result<f64, ModelError> {
    Ok(
        positive("apparent GB conductivity", sigma_apparent)? * positive("GB width delta", delta)?
            / positive("grain size", grain_size)?,
    )
}

/// Specific GB conductivity from impedance capacitances (brick layer): δ/l = (C_bulk/C_gb)(ε_gb/ε_bulk),
/// so σ_gb,specific = σ_gb,apparent · (C_bulk/C_gb) · (ε_gb/ε_bulk); `permittivity_ratio` = ε_gb/ε_bulk,
/// usually taken as 1.
pub fn specific_gb_conductivity_from_capacitance(
    sigma_apparent: f64,
    c_bulk: f64,
    c_gb: f64,
    permittivity_ratio: f64,
) -> Result<f64, ModelError> {
    let ratio = positive("C_bulk", c_bulk)? / positive("C_gb", c_gb)?;
    Ok(
        positive("apparent GB conductivity", sigma_apparent)?
            * ratio
            * positive("eps_gb/eps_bulk", permittivity_ratio)?,
    )
}

/// q²/(k_B T) in C²/J, after checking T.
fn charge_squared_over_kt(temperature_k: f64) -> Result<f64, ModelError> {
    Ok(ELEMENTARY_CHARGE_C * ELEMENTARY_CHARGE_C / (BOLTZMANN_J_K * positive("temperature", temperature_k)?))
}

/// Nernst–Einstein, conductivity diffusion coefficient from a conductivity (paper 003, Fig. 5b):
/// D_σ = k_B T σ / (n q²). σ in S/cm, n in cm⁻³, T in K → D_σ in cm²/s.
pub fn conductivity_diffusivity_cm2_s(sigma_s_cm: f64, n_cm3: f64, temperature_k: f64) -> Result<f64, ModelError> {
    let sigma = positive("conductivity", sigma_s_cm)?;
    Ok(sigma / (positive("Li number density", n_cm3)? * charge_squared_over_kt(temperature_k)?))
}

/// Nernst–Einstein with the Haven ratio, conductivity from a tracer diffusion coefficient:
/// σ = n q² D* / (k_B T H_R). D* in cm²/s, n in cm⁻³, T in K → σ in S/cm.
pub fn conductivity_from_tracer_s_cm(
    d_tracer_cm2_s: f64,
    n_cm3: f64,
    temperature_k: f64,
    haven_ratio: f64,
) -> Result<f64, ModelError> {
    let d = positive("tracer diffusion coefficient", d_tracer_cm2_s)?;
    Ok(
        positive("Li number density", n_cm3)? * charge_squared_over_kt(temperature_k)? * d
            / positive("Haven ratio", haven_ratio)?,
    )
}

/// Haven ratio H_R ≡ D*/D_σ (paper 003).
pub fn haven_ratio(d_tracer: f64, d_sigma: f64) -> Result<f64, ModelError> {
    Ok(positive("tracer diffusion coefficient", d_tracer)? / positive("conductivity diffusion coefficient", d_sigma)?)
}

/// Haven ratio from Arrhenius prefactors when both coefficients share one activation energy
/// (D* = D*₀ e^(−Ea/kT), D_σ = D_σ,0 e^(−Ea/kT) ⇒ H_R = D*₀/D_σ,0, independent of T). Paper 003 does this
/// for (l/δ)D*_gb and (l/δ)D_σ,gb, both with Ea ≈ 0.43 eV: 0.048/0.20 = 0.24.
pub fn haven_ratio_from_prefactors(prefactor_tracer: f64, prefactor_sigma: f64) -> Result<f64, ModelError> {
    haven_ratio(prefactor_tracer, prefactor_sigma)
}
