//! Synthetic SIMS: what a ToF-SIMS isotope image of a simulated ⁶Li fraction field would look like.
//! The field is first brought to the instrument's resolution (block averaging onto coarser pixels and/or a
//! Gaussian blur of given FWHM), then counting noise is added per pixel: ⁶Li counts ~ Poisson(N f₆) and
//! ⁷Li counts ~ Poisson(N (1 − f₆)) with N the expected total counts per pixel, seeded. The measured
//! fraction is paper 003 eqn (1), computed by [`crate::isotope::fraction_from_counts`]; its variance is
//! ≈ f (1 − f) / N.

use crate::image::{Image, ImageSizeError};
use crate::isotope::fraction_from_counts;
use rand::SeedableRng;
use rand_distr::{Distribution, Poisson};
use rand_xoshiro::Xoshiro256PlusPlus;
use thiserror::Error;

/// Errors from synthetic SIMS.
#[derive(Debug, Error, PartialEq)]
pub enum SimsError {
    #[error(transparent)]
    Size(#[from] ImageSizeError),
    #[error("{name} must be {expected}, got {value}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error("pixel {index} has fraction {value}, outside [0, 1]")]
    FractionOutOfRange { index: usize, value: f64 },
}

/// The two count channels and the measured fraction (eqn 1; `None` where a pixel got no counts).
#[derive(Debug, Clone, PartialEq)]
pub struct SimsChannels {
    pub nx: usize,
    pub ny: usize,
    pub li6: Vec<u64>,
    pub li7: Vec<u64>,
    pub fraction: Vec<Option<f64>>,
}

/// Instrument model for [`synthetic_sims`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimsSettings {
    /// Simulation cells per SIMS pixel along each axis (1 = same grid).
    pub block: usize,
    /// FWHM of the Gaussian beam profile in SIMS pixels (0 = no blur).
    pub fwhm_px: f64,
    /// Expected ⁶Li + ⁷Li counts per pixel.
    pub counts_per_pixel: f64,
    pub seed: u64,
}

/// Average non-overlapping `block` × `block` groups of cells into one pixel; trailing cells that do not
/// fill a block are dropped (as a raster smaller than the field would).
pub fn block_average(image: &Image, block: usize) -> Result<Image, SimsError> {
    if block == 0 || block > image.nx || block > image.ny {
        return Err(SimsError::InvalidParameter {
            name: "block (cells per pixel)",
            value: block as f64,
            expected: "between 1 and the image size",
        });
    }
    let (nx, ny) = (image.nx / block, image.ny / block);
    let mut out = vec![0.0; nx * ny];
    for (p, value) in out.iter_mut().enumerate() {
        let (px, py) = (p % nx, p / nx);
        let mut sum = 0.0;
        for j in py * block..(py + 1) * block {
            sum += image.data[j * image.nx + px * block..j * image.nx + (px + 1) * block]
                .iter()
                .sum::<f64>();
        }
        *value = sum / (block * block) as f64;
    }
    Ok(Image::new(nx, ny, out)?)
}

/// Gaussian blur with σ = FWHM / (2 √(2 ln 2)) pixels, separable, the kernel cut at 4σ and renormalised
/// at the edges (so a uniform image stays uniform and the mean is kept away from the edges).
pub fn gaussian_blur(image: &Image, fwhm_px: f64) -> Result<Image, SimsError> {
    if !(fwhm_px.is_finite() && fwhm_px >= 0.0) {
        return Err(SimsError::InvalidParameter {
            name: "FWHM (pixels)",
            value: fwhm_px,
            expected: ">= 0",
        });
    }
    if fwhm_px == 0.0 {
        return Ok(image.clone());
    }
    let sigma = fwhm_px / (2.0 * (2.0 * std::f64::consts::LN_2).sqrt());
    let half = (4.0 * sigma).ceil() as isize;
    let kernel: Vec<f64> = (-half..=half)
        .map(|k| (-(k * k) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let along_x = convolve_lines(&image.data, image.nx, image.ny, 1, image.nx, &kernel);
    let along_y = convolve_lines(&along_x, image.ny, image.nx, image.nx, 1, &kernel);
    Ok(Image::new(image.nx, image.ny, along_y)?)
}

/// Convolve `n_lines` lines of `len` samples (sample stride `step`, line stride `line_step`) with a
/// symmetric kernel, renormalising where it overhangs the ends.
fn convolve_lines(data: &[f64], len: usize, n_lines: usize, step: usize, line_step: usize, kernel: &[f64]) -> Vec<f64> {
    let half = (kernel.len() / 2) as isize;
    let mut out = vec![0.0; data.len()];
    for line in 0..n_lines {
        let base = line * line_step;
        for i in 0..len as isize {
            let (mut sum, mut weight) = (0.0, 0.0);
            for (k, w) in kernel.iter().enumerate() {
                let j = i + k as isize - half;
                if (0..len as isize).contains(&j) {
                    sum += w * data[base + j as usize * step];
                    weight += w;
                }
            }
            out[base + i as usize * step] = sum / weight;
        }
    }
    out
}

/// Poisson counting noise on both channels of a fraction image, seeded (Xoshiro256++).
pub fn counting_noise(fraction: &Image, counts_per_pixel: f64, seed: u64) -> Result<SimsChannels, SimsError> {
    if !(counts_per_pixel.is_finite() && counts_per_pixel > 0.0) {
        return Err(SimsError::InvalidParameter {
            name: "counts per pixel",
            value: counts_per_pixel,
            expected: "finite and > 0",
        });
    }
    if let Some((index, &value)) = fraction
        .data
        .iter()
        .enumerate()
        .find(|&(_, f)| !(0.0..=1.0).contains(f))
    {
        return Err(SimsError::FractionOutOfRange { index, value });
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut draw = |mean: f64| -> u64 {
        // Poisson::new rejects a zero mean; a zero mean gives zero counts
        Poisson::new(mean).map_or(0, |p| p.sample(&mut rng) as u64)
    };
    let n = fraction.data.len();
    let (mut li6, mut li7, mut measured) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for &f in &fraction.data {
        let c6 = draw(counts_per_pixel * f);
        let c7 = draw(counts_per_pixel * (1.0 - f));
        li6.push(c6);
        li7.push(c7);
        measured.push(fraction_from_counts(c6 as f64, c7 as f64).ok().map(|fr| fr.value));
    }
    Ok(SimsChannels {
        nx: fraction.nx,
        ny: fraction.ny,
        li6,
        li7,
        fraction: measured,
    })
}

/// Pixelise (block average, then blur) and add counting noise: the full synthetic SIMS image.
pub fn synthetic_sims(field: &Image, settings: &SimsSettings) -> Result<SimsChannels, SimsError> {
    let pixels = block_average(field, settings.block)?;
    let blurred = gaussian_blur(&pixels, settings.fwhm_px)?;
    counting_noise(&blurred, settings.counts_per_pixel, settings.seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_average_keeps_the_mean_of_whole_blocks() {
        let img = Image::new(4, 2, vec![1.0, 3.0, 5.0, 7.0, 1.0, 3.0, 5.0, 7.0]).unwrap();
        let out = block_average(&img, 2).unwrap();
        assert_eq!((out.nx, out.ny), (2, 1));
        assert_eq!(out.data, vec![2.0, 6.0]);
        assert!(block_average(&img, 3).is_err());
    }

    #[test]
    fn gaussian_blur_conserves_uniform_images_and_spreads_a_point_to_its_fwhm() {
        let uniform = Image::new(9, 7, vec![0.3; 63]).unwrap();
        assert!(
            gaussian_blur(&uniform, 2.5)
                .unwrap()
                .data
                .iter()
                .all(|v| (v - 0.3).abs() < 1e-15)
        );
        // a point in the middle of a 61 × 61 image (far enough from the edges that no kernel reaching it is
        // renormalised): half maximum at ±FWHM/2 along x, total kept
        let n = 61;
        let mut data = vec![0.0; n * n];
        data[30 * n + 30] = 1.0;
        let fwhm = 6.0;
        let out = gaussian_blur(&Image::new(n, n, data).unwrap(), fwhm).unwrap();
        let peak = out.data[30 * n + 30];
        let at_half = out.data[30 * n + 33];
        assert!((at_half / peak - 0.5).abs() < 1e-12, "{}", at_half / peak);
        assert!((out.data.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn noisy_fractions_are_unbiased_with_binomial_variance() {
        let (f, counts, n_px) = (0.3, 400.0, 20_000);
        let img = Image::new(200, 100, vec![f; n_px]).unwrap();
        let ch = counting_noise(&img, counts, 42).unwrap();
        let values: Vec<f64> = ch.fraction.iter().map(|v| v.unwrap()).collect();
        let mean = values.iter().sum::<f64>() / n_px as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n_px - 1) as f64;
        let expected_var = f * (1.0 - f) / counts;
        // standard error of the mean √(var/n) ≈ 1.6e-4; allow 4 of them
        assert!(
            (mean - f).abs() < 4.0 * (expected_var / n_px as f64).sqrt(),
            "mean {mean}"
        );
        // the sample variance has relative standard error √(2/n) ≈ 1 %; allow 5 %
        assert!((var / expected_var - 1.0).abs() < 0.05, "var {var} vs {expected_var}");
        // channels sum to ≈ N on average
        let total: u64 = ch.li6.iter().zip(&ch.li7).map(|(a, b)| a + b).sum();
        assert!((total as f64 / n_px as f64 / counts - 1.0).abs() < 0.01);
        assert_eq!(counting_noise(&img, counts, 42).unwrap(), ch);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let img = Image::new(2, 1, vec![0.5, 1.5]).unwrap();
        assert_eq!(
            counting_noise(&img, 10.0, 0),
            Err(SimsError::FractionOutOfRange { index: 1, value: 1.5 })
        );
        assert!(counting_noise(&img, f64::NAN, 0).is_err());
        assert!(Image::new(3, 1, vec![0.0; 2]).is_err());
        assert!(gaussian_blur(&Image::new(1, 1, vec![0.0]).unwrap(), -1.0).is_err());
    }
}
