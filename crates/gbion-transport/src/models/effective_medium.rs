//! Effective diffusion coefficient of a polycrystal of grains (D_bulk) separated by grain boundaries of
//! width δ (D_gb): series (paper 003 eqns 5–6), parallel, brick-layer and Maxwell-Garnett models, and the
//! Wiener and Hashin–Shtrikman bounds that bracket any isotropic two-phase medium.

use super::{ModelError, fraction, non_negative, positive};

/// Which effective-medium model to evaluate (see the methods of [`Polycrystal`] for the formulas).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// 1D chain of grains and GBs in series, paper 003 eqn 5.
    Series,
    /// Grains and GBs side by side along the transport direction (the upper Wiener bound in 1D).
    Parallel,
    /// Brick layer of cubic grains: across-GB series path plus along-GB walls; the total is reported.
    BrickLayer,
    /// Maxwell-Garnett with the grains as spherical inclusions in a continuous GB matrix.
    MaxwellGarnett,
}

/// Which phase is the continuous matrix in the Maxwell-Garnett formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxwellGarnettMatrix {
    /// Grains are inclusions wrapped in a continuous GB phase (the polycrystal picture of paper 003 Fig. 5a).
    GrainBoundary,
    /// GB material forms isolated inclusions in a continuous bulk matrix.
    Grains,
}

/// Contributions of the brick-layer model, each an effective D of the whole brick (sum = `total`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BrickLayer {
    /// Through the grain columns and the GB slabs perpendicular to the transport direction.
    pub across: f64,
    /// Along the GB walls parallel to the transport direction.
    pub along: f64,
    /// `across + along`.
    pub total: f64,
}

/// A polycrystal of grains of size `grain_size` (l) with bulk diffusivity `d_bulk`, separated by grain
/// boundaries of width `delta` (δ) with diffusivity `d_gb`. Any consistent units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polycrystal {
    pub d_bulk: f64,
    pub d_gb: f64,
    pub delta: f64,
    pub grain_size: f64,
}

impl Polycrystal {
    /// Checks D_bulk > 0, D_gb > 0, δ ≥ 0, l > 0 (all finite).
    pub fn new(d_bulk: f64, d_gb: f64, delta: f64, grain_size: f64) -> Result<Self, ModelError> {
        Ok(Polycrystal {
            d_bulk: positive("D_bulk", d_bulk)?,
            d_gb: positive("D_gb", d_gb)?,
            delta: non_negative("GB width delta", delta)?,
            grain_size: positive("grain size", grain_size)?,
        })
    }

    /// From the GB conductance D_gb/δ (what SIMS measures) and an assumed width δ > 0.
    pub fn from_gb_conductance(
        d_bulk: f64,
        gb_conductance: f64,
        delta: f64,
        grain_size: f64,
    ) -> Result<Self, ModelError> {
        let delta = positive("GB width delta", delta)?;
        Self::new(
            d_bulk,
            positive("D_gb/delta", gb_conductance)? * delta,
            delta,
            grain_size,
        )
    }

    /// The same polycrystal with another grain size.
    pub fn with_grain_size(&self, grain_size: f64) -> Result<Self, ModelError> {
        Self::new(self.d_bulk, self.d_gb, self.delta, grain_size)
    }

    /// Series model, paper 003 eqn 5: (l + δ)/D_eff = l/D_bulk + δ/D_gb.
    /// Valid when the diffusion length is much larger than l (l ≪ √(D_eff t)).
    pub fn series(&self) -> f64 {
        let (l, d) = (self.grain_size, self.delta);
        (l + d) / (l / self.d_bulk + d / self.d_gb)
    }

    /// Thin-GB series model, paper 003 eqn 6 (eqn 5 with l ≫ δ): D_eff = 1 / (1/D_bulk + 1/((l/δ) D_gb)).
    /// Depends on the GB only through D_gb/δ; equals D_bulk when δ = 0.
    pub fn series_thin_gb(&self) -> f64 {
        1.0 / (1.0 / self.d_bulk + self.delta / (self.grain_size * self.d_gb))
    }

    /// Parallel model: D_eff = (l D_bulk + δ D_gb)/(l + δ), layers along the transport direction.
    pub fn parallel(&self) -> f64 {
        let (l, d) = (self.grain_size, self.delta);
        (l * self.d_bulk + d * self.d_gb) / (l + d)
    }

    /// GB volume fraction of the 3D brick: cubic grains of edge l in cells of edge l + δ (half a GB on each
    /// face): φ_gb = 1 − (l/(l + δ))³ ≈ 3δ/l.
    pub fn gb_volume_fraction(&self) -> f64 {
        1.0 - (self.grain_size / (self.grain_size + self.delta)).powi(3)
    }

    /// Brick-layer model (van Dijk & Burggraaf 1981; Näfe 1984, "series–parallel" form): cubic grains of
    /// edge l in cubic cells of edge L = l + δ. Per cell, the grain column of cross-section l² in series with
    /// one perpendicular GB slab conducts G_across = l² / (l/D_bulk + δ/D_gb); the GB walls parallel to the
    /// transport direction, of cross-section L² − l², conduct G_along = (L² − l²) D_gb / L; D = G/L.
    /// Limits: D_gb ≪ D_bulk → series (eqn 5, up to the factor l²/L²); D_gb ≫ D_bulk →
    /// D_bulk + (2δ/l) D_gb; D_gb = D_bulk → D_bulk.
    pub fn brick_layer(&self) -> BrickLayer {
        let (l, d) = (self.grain_size, self.delta);
        let cell = l + d;
        let g_across = l * l / (l / self.d_bulk + d / self.d_gb);
        let g_along = (cell * cell - l * l) * self.d_gb / cell;
        let across = g_across / cell;
        let along = g_along / cell;
        BrickLayer {
            across,
            along,
            total: across + along,
        }
    }

    /// Maxwell-Garnett with the given matrix phase and the 3D brick GB fraction
    /// [`gb_volume_fraction`](Self::gb_volume_fraction). See [`maxwell_garnett`].
    pub fn maxwell_garnett(&self, matrix: MaxwellGarnettMatrix) -> f64 {
        let phi_gb = self.gb_volume_fraction();
        match matrix {
            MaxwellGarnettMatrix::GrainBoundary => maxwell_garnett(self.d_gb, self.d_bulk, 1.0 - phi_gb),
            MaxwellGarnettMatrix::Grains => maxwell_garnett(self.d_bulk, self.d_gb, phi_gb),
        }
    }

    /// D_eff of `model` (brick layer: the total; Maxwell-Garnett: grains in a GB matrix).
    pub fn effective(&self, model: Model) -> f64 {
        match model {
            Model::Series => self.series(),
            Model::Parallel => self.parallel(),
            Model::BrickLayer => self.brick_layer().total,
            Model::MaxwellGarnett => self.maxwell_garnett(MaxwellGarnettMatrix::GrainBoundary),
        }
    }
}

/// Paper 003 eqn 6 written with the measured GB conductance g = D_gb/δ:
/// D_eff = 1 / (1/D_bulk + 1/(l g)).
pub fn series_from_gb_conductance(d_bulk: f64, gb_conductance: f64, grain_size: f64) -> Result<f64, ModelError> {
    let d_bulk = positive("D_bulk", d_bulk)?;
    let g = positive("D_gb/delta", gb_conductance)?;
    let l = positive("grain size", grain_size)?;
    Ok(1.0 / (1.0 / d_bulk + 1.0 / (l * g)))
}

/// Maxwell-Garnett effective medium of spherical inclusions (D_i, volume fraction f) in a matrix (D_m)
/// (Maxwell 1873; Garnett 1904):
/// D_eff = D_m [D_i + 2D_m + 2f(D_i − D_m)] / [D_i + 2D_m − f(D_i − D_m)].
/// It coincides with the Hashin–Shtrikman bound of the matrix phase's side: the lower bound when the
/// matrix is the slower phase, the upper when it is the faster.
pub fn maxwell_garnett(d_matrix: f64, d_inclusion: f64, inclusion_fraction: f64) -> f64 {
    let (dm, di, f) = (d_matrix, d_inclusion, inclusion_fraction);
    dm * (di + 2.0 * dm + 2.0 * f * (di - dm)) / (di + 2.0 * dm - f * (di - dm))
}

/// Wiener bounds of a two-phase medium with fraction `f2` of phase 2: (harmonic mean, arithmetic mean) =
/// (series layers across, parallel layers along the transport direction).
pub fn wiener_bounds(d1: f64, d2: f64, f2: f64) -> Result<(f64, f64), ModelError> {
    let f2 = fraction("volume fraction", f2)?;
    let f1 = 1.0 - f2;
    Ok((1.0 / (f1 / d1 + f2 / d2), f1 * d1 + f2 * d2))
}

/// Hashin–Shtrikman bounds of an isotropic 3D two-phase medium with fraction `f2` of phase 2
/// (Hashin & Shtrikman 1962): with D_lo ≤ D_hi and fractions f_lo, f_hi,
/// lower = D_lo + f_hi / (1/(D_hi − D_lo) + f_lo/(3 D_lo)),
/// upper = D_hi + f_lo / (1/(D_lo − D_hi) + f_hi/(3 D_hi)).
pub fn hashin_shtrikman_bounds(d1: f64, d2: f64, f2: f64) -> Result<(f64, f64), ModelError> {
    let f2 = fraction("volume fraction", f2)?;
    if d1 == d2 {
        return Ok((d1, d1));
    }
    let ((d_lo, f_lo), (d_hi, f_hi)) = if d1 < d2 {
        ((d1, 1.0 - f2), (d2, f2))
    } else {
        ((d2, f2), (d1, 1.0 - f2))
    };
    let lower = d_lo + f_hi / (1.0 / (d_hi - d_lo) + f_lo / (3.0 * d_lo));
    let upper = d_hi + f_lo / (1.0 / (d_lo - d_hi) + f_hi / (3.0 * d_hi));
    Ok((lower, upper))
}
