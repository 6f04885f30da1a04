//! The interplanar spacing of the grains along the GB normal: the spacing of the atomic planes parallel to
//! the GB, which sets the GB width in paper 000 (Fig. 4: two or four interplanar spacings, at least 5 Å).
//!
//! Method: the atoms of each grain farther than [`EXCLUDED_HALF_WIDTH_A`] from both GB planes give a 1D
//! structure factor along the normal, S(q) = Σ_grains |Σ_j exp(i q z_j)|² / N (each grain coherently, the
//! two grains added incoherently, so their different phases do not interfere). Atomic planes spaced d
//! apart give peaks at q = 2πm/d. The spacing is 2π/q at the lowest-q local maximum of S that reaches
//! [`PEAK_FRACTION`] of the highest maximum, searched for d between [`MIN_SPACING_A`] and [`MAX_SPACING_A`]
//! on a q grid twenty times finer than the peak width 2π/L (L the thicker grain), refined by a parabola.
//! Harmonics (d/2, d/3, …) are never at lower q than the fundamental, and thermal displacements weaken
//! them, so the fundamental spacing is found.

use super::planes::{GbPlanes, axis_coordinates};
use crate::{Error, Result};
use gbion_atoms::Structure;
use std::f64::consts::TAU;

/// Atoms this close (Å) to a GB plane are left out of the grains' structure factor.
pub const EXCLUDED_HALF_WIDTH_A: f64 = 2.5;
/// Smallest spacing (Å) searched.
pub const MIN_SPACING_A: f64 = 0.5;
/// Largest spacing (Å) searched.
pub const MAX_SPACING_A: f64 = 6.0;
/// A peak counts when it reaches this fraction of the highest one.
pub const PEAK_FRACTION: f64 = 0.8;

/// The interplanar spacing (Å) of the grains of `structure` along the normal of `planes`.
pub fn interplanar_spacing(structure: &Structure, planes: &GbPlanes) -> Result<f64> {
    let grains = grain_coordinates(structure, planes);
    let n_atoms: usize = grains.iter().map(Vec::len).sum();
    let thickest = grains
        .iter()
        .map(|z| z.iter().copied().fold(f64::NEG_INFINITY, f64::max) - z.iter().copied().fold(f64::INFINITY, f64::min))
        .fold(0.0, f64::max);
    if n_atoms < 4 || thickest < MAX_SPACING_A {
        return Err(Error::Invalid(format!(
            "the grains are too thin (at most {thickest:.2} Å beyond {EXCLUDED_HALF_WIDTH_A} Å of the GB planes) \
             to measure their interplanar spacing; give the GB width in Å instead"
        )));
    }
    let (q_min, q_max) = (TAU / MAX_SPACING_A, TAU / MIN_SPACING_A);
    let step = TAU / (20.0 * thickest);
    let q: Vec<f64> = (0..)
        .map(|i| q_min + i as f64 * step)
        .take_while(|&q| q <= q_max)
        .collect();
    let s: Vec<f64> = q
        .iter()
        .map(|&q| grains.iter().map(|z| coherent_intensity(z, q)).sum::<f64>() / n_atoms as f64)
        .collect();
    let maxima: Vec<usize> = (1..s.len() - 1)
        .filter(|&i| s[i] > s[i - 1] && s[i] >= s[i + 1])
        .collect();
    let highest = maxima.iter().map(|&i| s[i]).fold(0.0, f64::max);
    let first = maxima
        .into_iter()
        .find(|&i| s[i] >= PEAK_FRACTION * highest)
        .ok_or_else(|| Error::Invalid("no atomic planes found along the GB normal; give the GB width in Å".into()))?;
    let curvature = s[first - 1] - 2.0 * s[first] + s[first + 1];
    let offset = if curvature < 0.0 {
        0.5 * (s[first - 1] - s[first + 1]) / curvature
    } else {
        0.0
    };
    Ok(TAU / (q[first] + offset * step))
}

/// Coordinates along the normal of the atoms of each grain (between consecutive planes) that are farther
/// than [`EXCLUDED_HALF_WIDTH_A`] from the planes, unwrapped so each grain is contiguous.
fn grain_coordinates(structure: &Structure, planes: &GbPlanes) -> Vec<Vec<f64>> {
    let mut grains = vec![Vec::new(); planes.positions.len()];
    for z in axis_coordinates(structure, planes.axis) {
        if planes.signed_distance(z).1.abs() <= EXCLUDED_HALF_WIDTH_A {
            continue;
        }
        // Grain g lies above plane g (periodically); measure z from that plane.
        let (g, above) = planes
            .positions
            .iter()
            .map(|&p| (z - p).rem_euclid(planes.height))
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("a bicrystal has planes");
        grains[g].push(above);
    }
    grains
}

/// |Σ_j exp(i q z_j)|².
fn coherent_intensity(z: &[f64], q: f64) -> f64 {
    let (re, im) = z.iter().fold((0.0, 0.0), |(re, im), &zj| {
        let (sin, cos) = (q * zj).sin_cos();
        (re + cos, im + sin)
    });
    re * re + im * im
}
