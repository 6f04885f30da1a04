//! What the `gbion transport` subcommands share: the factors from SI to the reported units (D in cm²/s,
//! D_gb/δ in cm/s, σ in S/cm), clap value parsers for quantities with units (a bare number takes the unit
//! the parser names), and atomic CSV writing of images.

use crate::output::write_atomic;
use anyhow::Result;
use gbion_transport::image::Image;
use gbion_transport::io::write_matrix_csv;
use gbion_units::{
    Dimension, parse_as, parse_diffusivity_m2_s, parse_length_m, parse_number_density_m3, parse_temperature_k,
    parse_time_s, parse_velocity_m_s,
};
use std::path::Path;

/// m²/s → cm²/s.
pub const M2_S_TO_CM2_S: f64 = 1e4;
/// m/s → cm/s.
pub const M_S_TO_CM_S: f64 = 1e2;
/// m⁻¹ → cm⁻¹.
pub const PER_M_TO_PER_CM: f64 = 1e-2;
/// S/m → S/cm.
pub const S_M_TO_S_CM: f64 = 1e-2;

/// A diffusivity in m²/s (bare number: cm²/s).
pub fn diffusivity(s: &str) -> Result<f64, String> {
    parse_diffusivity_m2_s(s, "cm^2/s").map_err(|e| e.to_string())
}
/// A velocity (D_gb/δ) in m/s (bare number: cm/s).
pub fn velocity(s: &str) -> Result<f64, String> {
    parse_velocity_m_s(s, "cm/s").map_err(|e| e.to_string())
}
/// A length in m (bare number: µm).
pub fn length_um(s: &str) -> Result<f64, String> {
    parse_length_m(s, "um").map_err(|e| e.to_string())
}
/// A length in m (bare number: nm).
pub fn length_nm(s: &str) -> Result<f64, String> {
    parse_length_m(s, "nm").map_err(|e| e.to_string())
}
/// A length in m (bare number: mm).
pub fn length_mm(s: &str) -> Result<f64, String> {
    parse_length_m(s, "mm").map_err(|e| e.to_string())
}
/// An area in m² (bare number: cm²).
pub fn area_cm2(s: &str) -> Result<f64, String> {
    parse_as(s, "cm^2", Dimension::new(2, 0, 0), "\"0.5 cm^2\"").map_err(|e| e.to_string())
}
/// A temperature in K (bare number: K).
pub fn temperature(s: &str) -> Result<f64, String> {
    parse_temperature_k(s, "K").map_err(|e| e.to_string())
}
/// A number density in cm⁻³ (bare number: cm⁻³).
pub fn density_cm3(s: &str) -> Result<f64, String> {
    // m⁻³ → cm⁻³
    parse_number_density_m3(s, "cm^-3")
        .map(|n| n * 1e-6)
        .map_err(|e| e.to_string())
}
/// A time in s (bare number: s).
pub fn time_s(s: &str) -> Result<f64, String> {
    parse_time_s(s, "s").map_err(|e| e.to_string())
}

/// Write `image` atomically as a comma-separated matrix, one image row per line, full precision.
pub fn write_image_csv(path: &Path, image: &Image) -> Result<()> {
    write_atomic(path, |w| Ok(write_matrix_csv(image, w)?))
}
