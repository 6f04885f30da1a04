//! The 6Li isotope fraction from SIMS intensities (paper 003, eqn 1), its counting-statistics uncertainty,
//! and normalisation against the natural-abundance baseline. Owns nothing about space or time: the fits in
//! `fit` consume what this module produces.

use crate::image::Image;
use crate::io::{IsotopeImage, LineScan, ScanValues};

/// Natural abundance of 6Li (atom fraction), the baseline C_0 of an unexchanged sample (IUPAC: 7.59 %).
pub const NATURAL_6LI_FRACTION: f64 = 0.0759;

/// Why a fraction could not be formed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IsotopeError {
    #[error("negative or non-finite intensity (6Li {li6}, 7Li {li7})")]
    BadIntensity { li6: f64, li7: f64 },
    #[error("no counts (6Li + 7Li = 0)")]
    NoCounts,
    #[error("source fraction {source_fraction} equals the baseline {baseline}: cannot normalise")]
    DegenerateNormalisation { source_fraction: f64, baseline: f64 },
    #[error("the 6Li and 7Li channels differ in length ({li6} vs {li7})")]
    LengthMismatch { li6: usize, li7: usize },
}

/// A 6Li fraction with its one-sigma counting uncertainty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fraction {
    pub value: f64,
    pub sigma: f64,
}

/// Eqn 1 of paper 003: C = I(6Li) / (I(6Li) + I(7Li)), dimensionless, from raw counts. Its uncertainty is
/// binomial counting statistics: σ² = C (1 − C) / N with N = I(6Li) + I(7Li) — exact for a fixed total,
/// and the same as Poisson propagation to first order. A pixel with C = 0 or 1 gets σ from the
/// rule-of-three bound σ = 1/N instead of 0, so it never carries infinite weight in a fit.
///
/// Caveat for weighted fits: σ is computed from the measured C, so it is correlated with the noise and
/// low-count pixels that fluctuate down get more weight. The bias is a fraction of σ²/C per pixel; it is
/// invisible in D but shows in a fitted plateau at low counts (a whole-image fit at 400 counts per pixel
/// returned C_0 = 0.071 for a true 0.0759). Model-based weights (iterated) would remove it; not done.
pub fn fraction_from_counts(li6: f64, li7: f64) -> Result<Fraction, IsotopeError> {
    if !(li6.is_finite() && li7.is_finite() && li6 >= 0.0 && li7 >= 0.0) {
        return Err(IsotopeError::BadIntensity { li6, li7 });
    }
    let n = li6 + li7;
    if n == 0.0 {
        return Err(IsotopeError::NoCounts);
    }
    let value = li6 / n;
    let sigma = (value * (1.0 - value) / n).sqrt().max(1.0 / n);
    Ok(Fraction { value, sigma })
}

/// The normalised fraction (C − C_nat) / (C_s − C_nat): 0 in unexchanged material, 1 at the source.
pub fn normalise(fraction: f64, baseline: f64, source_fraction: f64) -> Result<f64, IsotopeError> {
    let span = source_fraction - baseline;
    if span == 0.0 || !span.is_finite() {
        return Err(IsotopeError::DegenerateNormalisation {
            source_fraction,
            baseline,
        });
    }
    Ok((fraction - baseline) / span)
}

/// A 6Li fraction image with per-pixel uncertainty. `valid[i]` is false where the pixel had no counts;
/// there `fraction` and `sigma` hold 0 and the pixel must be ignored (fits give it zero weight).
#[derive(Debug, Clone, PartialEq)]
pub struct FractionImage {
    pub fraction: Image,
    pub sigma: Option<Image>,
    pub valid: Vec<bool>,
}

impl FractionImage {
    /// Number of pixels that carry a value.
    pub fn valid_count(&self) -> usize {
        self.valid.iter().filter(|v| **v).count()
    }
}

/// Pixel-wise eqn 1 on two count images of the same shape. Pixels with zero counts are marked invalid;
/// negative or non-finite counts are an error.
pub fn fraction_image(li6: &Image, li7: &Image) -> Result<FractionImage, IsotopeError> {
    if li6.data.len() != li7.data.len() {
        return Err(IsotopeError::LengthMismatch {
            li6: li6.data.len(),
            li7: li7.data.len(),
        });
    }
    let n = li6.data.len();
    let (mut f, mut s, mut valid) = (vec![0.0; n], vec![0.0; n], vec![false; n]);
    for i in 0..n {
        match fraction_from_counts(li6.data[i], li7.data[i]) {
            Ok(fr) => {
                f[i] = fr.value;
                s[i] = fr.sigma;
                valid[i] = true;
            }
            Err(IsotopeError::NoCounts) => {}
            Err(e) => return Err(e),
        }
    }
    let shape = |data| Image {
        nx: li6.nx,
        ny: li6.ny,
        data,
    };
    Ok(FractionImage {
        fraction: shape(f),
        sigma: Some(shape(s)),
        valid,
    })
}

/// The fraction image of a SIMS measurement: eqn 1 on count channels, or the fraction image as given
/// (then no per-pixel uncertainty is known and every pixel is valid).
pub fn isotope_image_fraction(image: &IsotopeImage) -> Result<FractionImage, IsotopeError> {
    match image {
        IsotopeImage::Counts { li6, li7 } => fraction_image(li6, li7),
        IsotopeImage::Fraction(f) => Ok(FractionImage {
            fraction: f.clone(),
            sigma: None,
            valid: vec![true; f.data.len()],
        }),
    }
}

/// A line scan reduced to positions (m), fractions and, for count data, their counting uncertainty.
/// Points with zero counts are dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct FractionProfile {
    pub position_m: Vec<f64>,
    pub fraction: Vec<f64>,
    pub sigma: Option<Vec<f64>>,
}

/// Turn a line scan into a fraction profile (eqn 1 for count columns).
pub fn scan_fraction(scan: &LineScan) -> Result<FractionProfile, IsotopeError> {
    match &scan.values {
        ScanValues::Fraction(f) => Ok(FractionProfile {
            position_m: scan.position_m.clone(),
            fraction: f.clone(),
            sigma: None,
        }),
        ScanValues::Counts { li6, li7 } => {
            let mut out = FractionProfile {
                position_m: vec![],
                fraction: vec![],
                sigma: Some(vec![]),
            };
            for ((&x, &a), &b) in scan.position_m.iter().zip(li6).zip(li7) {
                match fraction_from_counts(a, b) {
                    Ok(fr) => {
                        out.position_m.push(x);
                        out.fraction.push(fr.value);
                        out.sigma.as_mut().expect("count data has sigma").push(fr.sigma);
                    }
                    Err(IsotopeError::NoCounts) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        }
    }
}

/// A fraction image normalised as in [`normalise`]: (C − C_nat)/(C_s − C_nat) per valid pixel, σ scaled by
/// 1/|C_s − C_nat|; invalid pixels stay 0 and invalid.
pub fn normalise_image(
    image: &FractionImage,
    baseline: f64,
    source_fraction: f64,
) -> Result<FractionImage, IsotopeError> {
    let span = (source_fraction - baseline).abs();
    let mut out = image.clone();
    for (value, valid) in out.fraction.data.iter_mut().zip(&image.valid) {
        *value = if *valid {
            normalise(*value, baseline, source_fraction)?
        } else {
            0.0
        };
    }
    if let Some(sigma) = out.sigma.as_mut() {
        sigma.data.iter_mut().for_each(|s| *s /= span);
    }
    Ok(out)
}
