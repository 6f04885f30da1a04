//! Impedance spectrum of the brick-layer model: the equivalent circuit (R_bulk‖C_bulk) + (R_gb‖C_gb) in
//! series, built from bulk and *specific* GB conductivities, the grain size l, the GB width δ, relative
//! permittivities and the sample geometry; Z(ω) over a logarithmic frequency grid for a Nyquist plot, and
//! the arc apex frequencies f = 1/(2πRC). Also the apparent GB conductivity an experimenter would report
//! from R_gb (paper 000's "apparent" σ_gb).
//!
//! Units: SI — σ in S/m, lengths in m, areas in m², R in Ω, C in F, f in Hz.
//! Not for: fitting measured spectra (no CPE elements, no electrode arc).

use serde::Serialize;
use std::f64::consts::PI;

use crate::models::{ModelError, positive};

/// Most frequencies [`BrickLayerCircuit::spectrum`] computes (a million: far more than any plot or fit).
pub const MAX_SPECTRUM_POINTS: usize = 1_000_000;

/// Vacuum permittivity ε₀ in F/m (CODATA 2018).
pub const VACUUM_PERMITTIVITY_F_M: f64 = 8.854_187_812_8e-12;

/// Material and geometry of a brick-layer sample between two blocking-free electrodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BrickLayerSample {
    /// Bulk (grain-interior) conductivity, S/m.
    pub sigma_bulk: f64,
    /// Specific GB conductivity (of the GB material itself), S/m.
    pub sigma_gb: f64,
    /// Grain size l, m.
    pub grain_size: f64,
    /// GB width δ, m.
    pub delta: f64,
    /// Relative permittivity of the grains.
    pub eps_bulk: f64,
    /// Relative permittivity of the GB phase.
    pub eps_gb: f64,
    /// Electrode separation L, m.
    pub thickness: f64,
    /// Electrode area A, m².
    pub area: f64,
}

/// One parallel RC element.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RcElement {
    pub resistance_ohm: f64,
    pub capacitance_f: f64,
}

impl RcElement {
    /// Time constant τ = RC, s.
    pub fn time_constant_s(&self) -> f64 {
        self.resistance_ohm * self.capacitance_f
    }

    /// Frequency of the arc's apex (−Im Z maximal, = R/2): f = 1/(2πRC), Hz.
    pub fn apex_frequency_hz(&self) -> f64 {
        1.0 / (2.0 * PI * self.time_constant_s())
    }

    /// Z = R/(1 + iωτ) = R(1 − iωτ)/(1 + ω²τ²), as (Re, Im) in Ω.
    pub fn impedance(&self, omega: f64) -> (f64, f64) {
        let wt = omega * self.time_constant_s();
        let denom = 1.0 + wt * wt;
        (self.resistance_ohm / denom, -self.resistance_ohm * wt / denom)
    }
}

/// The brick-layer circuit (R_bulk‖C_bulk) + (R_gb‖C_gb).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BrickLayerCircuit {
    pub bulk: RcElement,
    pub gb: RcElement,
}

/// A point of an impedance spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ImpedancePoint {
    pub frequency_hz: f64,
    pub z_re_ohm: f64,
    pub z_im_ohm: f64,
}

impl BrickLayerSample {
    /// Checks every field is positive and finite.
    pub fn validate(&self) -> Result<(), ModelError> {
        positive("bulk conductivity", self.sigma_bulk)?;
        positive("specific GB conductivity", self.sigma_gb)?;
        positive("grain size", self.grain_size)?;
        positive("GB width delta", self.delta)?;
        positive("bulk relative permittivity", self.eps_bulk)?;
        positive("GB relative permittivity", self.eps_gb)?;
        positive("sample thickness", self.thickness)?;
        positive("electrode area", self.area)?;
        Ok(())
    }

    /// The circuit of the across-GB path of the brick layer (the along-GB path is neglected, valid for
    /// σ_gb ≪ σ_bulk): a thickness L holds L/(l+δ) grains, so grains span L·l/(l+δ) and GBs L·δ/(l+δ);
    /// each layer of thickness d has R = d/(σA) and C = ε₀ε_r A/d.
    pub fn circuit(&self) -> Result<BrickLayerCircuit, ModelError> {
        self.validate()?;
        let cell = self.grain_size + self.delta;
        let bulk_thickness = self.thickness * self.grain_size / cell;
        let gb_thickness = self.thickness * self.delta / cell;
        let layer = |sigma: f64, eps: f64, d: f64| RcElement {
            resistance_ohm: d / (sigma * self.area),
            capacitance_f: VACUUM_PERMITTIVITY_F_M * eps * self.area / d,
        };
        Ok(BrickLayerCircuit {
            bulk: layer(self.sigma_bulk, self.eps_bulk, bulk_thickness),
            gb: layer(self.sigma_gb, self.eps_gb, gb_thickness),
        })
    }
}

impl BrickLayerCircuit {
    /// Z(ω) = R_b/(1 + iωR_bC_b) + R_gb/(1 + iωR_gbC_gb), as (Re, Im) in Ω; ω in rad/s.
    pub fn impedance(&self, omega: f64) -> (f64, f64) {
        let (b_re, b_im) = self.bulk.impedance(omega);
        let (g_re, g_im) = self.gb.impedance(omega);
        (b_re + g_re, b_im + g_im)
    }

    /// Z on a logarithmic grid (at most [`MAX_SPECTRUM_POINTS`] frequencies) from `f_min_hz` to `f_max_hz` with `points_per_decade` points per decade
    /// (both ends included), ascending in frequency.
    pub fn spectrum(
        &self,
        f_min_hz: f64,
        f_max_hz: f64,
        points_per_decade: usize,
    ) -> Result<Vec<ImpedancePoint>, ModelError> {
        let f_min = positive("minimum frequency", f_min_hz)?;
        let f_max = positive("maximum frequency", f_max_hz)?;
        if f_max <= f_min {
            return Err(ModelError::NotPositive {
                name: "frequency range (f_max - f_min)",
                value: f_max - f_min,
            });
        }
        let per_decade = positive("points per decade", points_per_decade as f64)?;
        let decades = (f_max / f_min).log10();
        let intervals = (decades * per_decade).ceil().max(1.0);
        if intervals >= MAX_SPECTRUM_POINTS as f64 {
            return Err(ModelError::TooMany {
                name: "frequencies (decades × points per decade)",
                value: intervals + 1.0,
                limit: MAX_SPECTRUM_POINTS,
            });
        }
        let n = intervals as usize;
        Ok((0..=n)
            .map(|k| {
                let f = f_min * 10f64.powf(decades * k as f64 / n as f64);
                let (z_re_ohm, z_im_ohm) = self.impedance(2.0 * PI * f);
                ImpedancePoint {
                    frequency_hz: f,
                    z_re_ohm,
                    z_im_ohm,
                }
            })
            .collect())
    }

    /// DC resistance R_b + R_gb, Ω.
    pub fn dc_resistance_ohm(&self) -> f64 {
        self.bulk.resistance_ohm + self.gb.resistance_ohm
    }

    /// Apparent GB conductivity σ_gb,app = L/(R_gb A): what one reports using the sample geometry for the
    /// GB arc (paper 000). In the brick layer it is σ_gb,specific·(l + δ)/δ.
    pub fn apparent_gb_conductivity(&self, thickness: f64, area: f64) -> f64 {
        thickness / (self.gb.resistance_ohm * area)
    }

    /// Total conductivity L/((R_b + R_gb) A), S/m.
    pub fn total_conductivity(&self, thickness: f64, area: f64) -> f64 {
        thickness / (self.dc_resistance_ohm() * area)
    }
}
