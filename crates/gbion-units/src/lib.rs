//! Quantities with explicit units in user input (`"0.5 nm"`, `"59 h"`, `"2.6e-8 cm^2/s"`, `"1573 K"`).
//! A bare number means the documented default unit of the field that reads it.
//!
//! The crate owns one job: turning a string such as `"2.6e-8 cm^2/s"` into a value in SI units with a
//! checked dimension. It knows lengths, times and temperatures, and products/quotients of them
//! (`cm2/s`, `cm^2 s^-1`, `m/s`, `um·h^-1`, `1/K`). Temperatures in degrees Celsius (`"25 C"`, `"25 °C"`)
//! are affine and are accepted only for a lone temperature, never inside a compound unit.
//!
//! ```
//! use gbion_units::{parse_diffusivity_m2_s, parse_length_m, parse_time_s};
//! assert!((parse_length_m("0.5 nm", "um").unwrap() - 0.5e-9).abs() < 1e-24);
//! assert_eq!(parse_time_s("59h", "s").unwrap(), 59.0 * 3600.0);
//! assert!((parse_diffusivity_m2_s("2.6e-8 cm^2/s", "cm^2/s").unwrap() - 2.6e-12).abs() < 1e-27);
//! assert!((parse_length_m("16", "um").unwrap() - 16e-6).abs() < 1e-20);
//! ```

mod dimension;
mod parse;

pub use dimension::Dimension;
pub use parse::Quantity;

/// Why a quantity could not be read. Every variant carries the offending input, so a caller that knows the
/// file/line/field can wrap it into its own error without losing the text the user typed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    #[error("empty quantity: expected a number with an optional unit, e.g. \"0.5 nm\"")]
    Empty,
    #[error("cannot read a number at the start of {input:?}: expected e.g. \"2.6e-8 cm^2/s\" or \"59 h\"")]
    BadNumber { input: String },
    #[error("number in {input:?} is not finite")]
    NotFinite { input: String },
    #[error("unknown unit {unit:?} in {input:?}: known units are {known}")]
    UnknownUnit {
        unit: String,
        input: String,
        known: &'static str,
    },
    #[error("malformed unit expression {input:?}: {reason}")]
    Malformed { input: String, reason: &'static str },
    #[error("{input:?} has dimension {found}, expected {expected} (e.g. {example})")]
    WrongDimension {
        input: String,
        expected: Dimension,
        found: Dimension,
        example: &'static str,
    },
    #[error("degrees Celsius are only accepted for a plain temperature, not inside {input:?}")]
    AffineInCompound { input: String },
    #[error("temperature {input:?} is below absolute zero")]
    BelowAbsoluteZero { input: String },
}

/// Read `s` as a quantity of dimension `expected`, returning its value in SI units. A bare number is read
/// in `default_unit` (itself a unit expression, e.g. `"um"` or `"cm^2/s"`).
pub fn parse_as(s: &str, default_unit: &str, expected: Dimension, example: &'static str) -> Result<f64, UnitError> {
    let q = Quantity::parse_with_default(s, default_unit)?;
    if q.dimension != expected {
        return Err(UnitError::WrongDimension {
            input: s.trim().to_string(),
            expected,
            found: q.dimension,
            example,
        });
    }
    Ok(q.value_si)
}

/// A length in metres; e.g. `"0.5 nm"`, `"1 µm"`, `"3 Å"`, or a bare number in `default_unit`.
pub fn parse_length_m(s: &str, default_unit: &str) -> Result<f64, UnitError> {
    parse_as(s, default_unit, Dimension::LENGTH, "\"0.5 nm\"")
}

/// A time in seconds; e.g. `"59 h"`, `"16 d"`, `"2w"` (weeks), or a bare number in `default_unit`.
pub fn parse_time_s(s: &str, default_unit: &str) -> Result<f64, UnitError> {
    parse_as(s, default_unit, Dimension::TIME, "\"59 h\"")
}

/// A diffusion coefficient in m²/s; e.g. `"2.6e-8 cm^2/s"`, `"2.6e-8 cm2/s"`, or a bare number in
/// `default_unit` (usually `"cm^2/s"`).
pub fn parse_diffusivity_m2_s(s: &str, default_unit: &str) -> Result<f64, UnitError> {
    parse_as(s, default_unit, Dimension::DIFFUSIVITY, "\"2.6e-8 cm^2/s\"")
}

/// A velocity in m/s, the unit of a GB conductance D_gb/δ; e.g. `"1.5e-6 cm/s"`.
pub fn parse_velocity_m_s(s: &str, default_unit: &str) -> Result<f64, UnitError> {
    parse_as(s, default_unit, Dimension::VELOCITY, "\"1.5e-6 cm/s\"")
}

/// An absolute temperature in kelvin; e.g. `"1573 K"`, `"25 C"`, `"25 °C"`, or a bare number in
/// `default_unit` (`"K"` or `"C"`). Temperatures below 0 K are an error.
pub fn parse_temperature_k(s: &str, default_unit: &str) -> Result<f64, UnitError> {
    let t = parse_as(s, default_unit, Dimension::TEMPERATURE, "\"295 K\" or \"22 C\"")?;
    if t < 0.0 {
        return Err(UnitError::BelowAbsoluteZero {
            input: s.trim().to_string(),
        });
    }
    Ok(t)
}

/// A number density in m⁻³; e.g. `"5e21 cm^-3"`, `"5e21/cm3"`, or a bare number in `default_unit`.
pub fn parse_number_density_m3(s: &str, default_unit: &str) -> Result<f64, UnitError> {
    parse_as(s, default_unit, Dimension::NUMBER_DENSITY, "\"5e21 cm^-3\"")
}
