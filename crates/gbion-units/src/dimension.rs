//! Physical dimensions as integer exponents of length, time and temperature (the only base quantities that
//! gbion's user inputs need).

use std::fmt;

/// Exponents of the base dimensions L (length), T (time) and Θ (temperature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Dimension {
    pub length: i32,
    pub time: i32,
    pub temperature: i32,
}

impl Dimension {
    pub const NONE: Dimension = Dimension::new(0, 0, 0);
    pub const LENGTH: Dimension = Dimension::new(1, 0, 0);
    pub const TIME: Dimension = Dimension::new(0, 1, 0);
    pub const TEMPERATURE: Dimension = Dimension::new(0, 0, 1);
    /// L² T⁻¹ (m²/s).
    pub const DIFFUSIVITY: Dimension = Dimension::new(2, -1, 0);
    /// L T⁻¹ (m/s), the dimension of a GB conductance D_gb/δ.
    pub const VELOCITY: Dimension = Dimension::new(1, -1, 0);
    /// L⁻³ (m⁻³).
    pub const NUMBER_DENSITY: Dimension = Dimension::new(-3, 0, 0);

    pub const fn new(length: i32, time: i32, temperature: i32) -> Self {
        Dimension {
            length,
            time,
            temperature,
        }
    }

    /// The dimension raised to an integer power.
    pub const fn pow(self, p: i32) -> Self {
        Dimension::new(self.length * p, self.time * p, self.temperature * p)
    }

    /// The dimension of a product of two quantities.
    pub const fn mul(self, other: Dimension) -> Self {
        Dimension::new(
            self.length + other.length,
            self.time + other.time,
            self.temperature + other.temperature,
        )
    }
}

impl fmt::Display for Dimension {
    /// Written with SI base units, e.g. `m^2 s^-1`; a dimensionless quantity is `1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [("m", self.length), ("s", self.time), ("K", self.temperature)]
            .iter()
            .filter(|(_, e)| *e != 0)
            .map(|(u, e)| if *e == 1 { u.to_string() } else { format!("{u}^{e}") })
            .collect();
        if parts.is_empty() {
            write!(f, "1 (dimensionless)")
        } else {
            write!(f, "{}", parts.join(" "))
        }
    }
}
