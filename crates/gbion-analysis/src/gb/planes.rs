//! Grain-boundary planes of a periodic bicrystal: their normal (a lattice axis) and their positions along
//! it, from the builder's `grain` tags when present, otherwise from a structural signature.
//!
//! Coordinates along the normal: for lattice axis k, an atom's coordinate is z = s_k · h_k (Å), with s_k its
//! fractional coordinate wrapped into [0, 1) and h_k the cell height (the distance between the cell faces
//! spanned by the other two lattice vectors). For an orthogonal cell this is the Cartesian coordinate; for a
//! triclinic cell it is the distance from the face through the origin. The normal must be periodic: a
//! bicrystal with two GBs has them at both ends of each grain.
//!
//! With tags (`grain`, exactly two values): along each periodic axis the atoms are sorted by z, weighted +1
//! (second grain) or −1 (first grain), and the circular run of sorted atoms with the largest weight sum (the
//! maximum circular subarray, Kadane) is the second grain; its two ends are the GB planes, each midway
//! between the last atom of one grain and the first atom of the other. The normal is the axis where this
//! split misplaces the fewest atoms.
//!
//! Without tags: each atom gets an inversion-asymmetry score (a centrosymmetry parameter that needs no
//! neighbour count, after Kelchner, Plimpton & Hamilton, Phys. Rev. B 58, 11085 (1998)):
//!
//! c_i = (1/n_i) Σ_j min(1, min_k |r_ij + r_ik|² / |r_ij|²),
//!
//! over the n_i first-shell neighbours j (within 1.25 d_i, d_i the atom's nearest-neighbour distance) and
//! the partners k within 1.6 d_i. c_i is 0 at any centrosymmetric site (simple cubic, fcc, bcc, every site
//! of the cubic perovskite ABO3) and of order 0.1–1 where the two grains meet; a neighbour without an
//! inverted partner counts 1, as does an atom without neighbours. Along each periodic axis the scores are
//! smoothed into a profile, the Gaussian-kernel weighted mean c(z) = Σ_i K(z − z_i) c_i / Σ_i K(z − z_i)
//! (σ = [`SMOOTHING_SIGMA_A`], periodic), on a grid of [`PROFILE_STEP_A`]. An axis in the GB plane sees GB
//! and bulk atoms in every slab (a flat profile); the normal sees peaks: the normal is the axis with the
//! largest contrast max c(z) − median c(z). The GB planes are the highest peak and the highest point at
//! least a quarter of the cell height away from it, each refined by a parabola through the grid points
//! around it. The planes found this way are accurate to about half an interplanar spacing: the peak lies
//! between the two atomic layers that meet at the GB but leans towards the more distorted one.

use crate::{Error, Result};
use gbion_atoms::structure::tags;
use gbion_atoms::{ListKind, NeighborList, Structure};

/// Width σ (Å) of the Gaussian that smooths per-atom asymmetry scores into a profile along an axis.
pub const SMOOTHING_SIGMA_A: f64 = 1.0;
/// Grid step (Å) of the asymmetry profile.
pub const PROFILE_STEP_A: f64 = 0.1;
/// First-shell radius relative to the atom's nearest-neighbour distance.
const SHELL_FACTOR: f64 = 1.25;
/// Radius (relative to the nearest-neighbour distance) within which an inverted partner is looked for.
const PARTNER_FACTOR: f64 = 1.6;
/// Profile contrast below which a structure has no GB signature (round-off of a perfect crystal's zeros).
const MIN_CONTRAST: f64 = 1e-6;

/// How the GB planes were found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaneSource {
    /// From the per-atom `grain` tag.
    GrainTags,
    /// From the per-atom inversion-asymmetry profile.
    Structure,
}

impl PlaneSource {
    /// A short name for reports: `grain-tags` or `structure`.
    pub fn name(self) -> &'static str {
        match self {
            PlaneSource::GrainTags => "grain-tags",
            PlaneSource::Structure => "structure",
        }
    }
}

/// The two GB planes of a periodic bicrystal.
#[derive(Clone, Debug, PartialEq)]
pub struct GbPlanes {
    /// Lattice axis (0 = a, 1 = b, 2 = c) of the GB normal.
    pub axis: usize,
    /// Cell height h along the normal (Å): the period of the coordinate z.
    pub height: f64,
    /// Plane positions z (Å, in [0, h)), ascending.
    pub positions: Vec<f64>,
    pub source: PlaneSource,
}

impl GbPlanes {
    /// The signed distance (Å) from z to the nearest plane, z − z_plane taken to the nearest periodic image,
    /// and that plane's index. Positive values lie on the side of increasing z.
    pub fn signed_distance(&self, z: f64) -> (usize, f64) {
        self.positions
            .iter()
            .map(|&p| periodic_difference(z - p, self.height))
            .enumerate()
            .min_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .expect("a bicrystal has planes")
    }

    /// The shortest distance (Å) between two planes, periodic images included.
    pub fn separation(&self) -> f64 {
        let [p, q] = [self.positions[0], self.positions[self.positions.len() - 1]];
        let d = (q - p).abs();
        d.min(self.height - d)
    }

    /// Signed distance (Å) of every atom of `structure` to its nearest plane.
    pub fn atom_distances(&self, structure: &Structure) -> Vec<f64> {
        axis_coordinates(structure, self.axis)
            .into_iter()
            .map(|z| self.signed_distance(z).1)
            .collect()
    }
}

/// d reduced into [−h/2, h/2).
fn periodic_difference(d: f64, h: f64) -> f64 {
    d - h * (d / h).round()
}

/// The coordinate z = s_k · h_k (Å) of every atom along lattice axis k, s_k wrapped into [0, 1).
pub fn axis_coordinates(structure: &Structure, axis: usize) -> Vec<f64> {
    let h = structure.cell.heights()[axis];
    structure
        .positions
        .iter()
        .map(|&r| {
            let s = structure.cell.to_fractional(r)[axis];
            (s - s.floor()) * h
        })
        .collect()
}

/// The GB planes of `structure` along `axis` (or the axis found), from `grain` tags when the structure has
/// them with exactly two values, otherwise from the structural signature (see the module docs).
pub fn find_planes(structure: &Structure, axis: Option<usize>) -> Result<GbPlanes> {
    let axes = candidate_axes(structure, axis)?;
    if structure.len() < 2 {
        return Err(Error::Invalid("a bicrystal needs at least two atoms".into()));
    }
    match structure.int_tag(tags::GRAIN) {
        Some(grain) if distinct_values(grain).len() == 2 => planes_from_grains(structure, grain, &axes),
        Some(grain) if distinct_values(grain).len() > 2 => Err(Error::Invalid(format!(
            "the grain tag has {} values: GB planes are found for bicrystals (two grains) only",
            distinct_values(grain).len()
        ))),
        _ => planes_from_structure(structure, &axes),
    }
}

fn distinct_values(values: &[i64]) -> Vec<i64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// The periodic axes to consider: the one asked for (which must be periodic), or all periodic ones.
fn candidate_axes(structure: &Structure, axis: Option<usize>) -> Result<Vec<usize>> {
    let pbc = structure.cell.pbc();
    match axis {
        Some(k) if k > 2 => Err(Error::Invalid(format!("axis {k} is not 0, 1 or 2"))),
        Some(k) if !pbc[k] => Err(Error::Invalid(format!(
            "the cell is not periodic along {}: a bicrystal's GB normal must be",
            ["a", "b", "c"][k]
        ))),
        Some(k) => Ok(vec![k]),
        None => {
            let axes: Vec<usize> = (0..3).filter(|&k| pbc[k]).collect();
            if axes.is_empty() {
                Err(Error::Invalid(
                    "the cell is not periodic: no bicrystal GB normal".into(),
                ))
            } else {
                Ok(axes)
            }
        }
    }
}

/// Planes from the `grain` tag: the best circular split along each axis, the axis with the fewest
/// misplaced atoms.
fn planes_from_grains(structure: &Structure, grain: &[i64], axes: &[usize]) -> Result<GbPlanes> {
    let second = distinct_values(grain)[1];
    let weights: Vec<i64> = grain.iter().map(|&g| if g == second { 1 } else { -1 }).collect();
    let mut best: Option<(i64, GbPlanes)> = None;
    for &axis in axes {
        let (score, planes) = split_along(structure, &weights, axis);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, planes));
        }
    }
    Ok(best.expect("at least one candidate axis").1)
}

/// The maximum circular run of `weights` in z order along `axis`, its score and the planes at its ends.
fn split_along(structure: &Structure, weights: &[i64], axis: usize) -> (i64, GbPlanes) {
    let height = structure.cell.heights()[axis];
    let z = axis_coordinates(structure, axis);
    let mut order: Vec<usize> = (0..z.len()).collect();
    order.sort_by(|&i, &j| z[i].total_cmp(&z[j]));
    let sorted: Vec<i64> = order.iter().map(|&i| weights[i]).collect();
    let (score, start, end) = max_circular_run(&sorted);
    let n = order.len();
    // Plane between sorted atoms i and i + 1 (circular): midway, across the period at the wrap.
    let between = |i: usize| {
        let (lo, hi) = (z[order[i % n]], z[order[(i + 1) % n]]);
        let hi = if (i + 1).is_multiple_of(n) { hi + height } else { hi };
        (0.5 * (lo + hi)).rem_euclid(height)
    };
    let mut positions = vec![between(start + n - 1), between(end)];
    positions.sort_by(f64::total_cmp);
    let planes = GbPlanes {
        axis,
        height,
        positions,
        source: PlaneSource::GrainTags,
    };
    (score, planes)
}

/// The circular run `values[start..=end]` (indices mod n, end ≥ start, length < n) with the largest sum:
/// the best linear run (Kadane) or the complement of the most negative linear run.
fn max_circular_run(values: &[i64]) -> (i64, usize, usize) {
    let n = values.len();
    let (max_sum, max_start, max_end) = extreme_run(values, 1);
    let (min_neg, min_start, min_end) = extreme_run(values, -1);
    let total: i64 = values.iter().sum();
    let wrapped = total + min_neg;
    if wrapped > max_sum {
        (wrapped, min_end + 1, min_start + n - 1)
    } else {
        (max_sum, max_start, max_end)
    }
}

/// Kadane's algorithm on sign · values: the largest sum of a non-empty linear run and its ends.
fn extreme_run(values: &[i64], sign: i64) -> (i64, usize, usize) {
    let (mut best, mut best_start, mut best_end) = (i64::MIN, 0, 0);
    let (mut current, mut start) = (0i64, 0);
    for (i, &v) in values.iter().enumerate() {
        if current <= 0 {
            current = 0;
            start = i;
        }
        current += sign * v;
        if current > best {
            (best, best_start, best_end) = (current, start, i);
        }
    }
    (best, best_start, best_end)
}

/// Planes from the per-atom asymmetry profile (see the module docs).
fn planes_from_structure(structure: &Structure, axes: &[usize]) -> Result<GbPlanes> {
    let scores = asymmetry_scores(structure)?;
    let mut best: Option<(f64, usize, Vec<f64>)> = None;
    for &axis in axes {
        let profile = asymmetry_profile(structure, &scores, axis);
        let contrast = profile_contrast(&profile);
        if best.as_ref().is_none_or(|(c, _, _)| contrast > *c) {
            best = Some((contrast, axis, profile));
        }
    }
    let (contrast, axis, profile) = best.expect("at least one candidate axis");
    if contrast < MIN_CONTRAST {
        return Err(Error::Invalid(
            "no GB signature: every atom has a centrosymmetric environment (a perfect crystal?)".into(),
        ));
    }
    let height = structure.cell.heights()[axis];
    let mut positions = two_peaks(&profile, height);
    positions.sort_by(f64::total_cmp);
    Ok(GbPlanes {
        axis,
        height,
        positions,
        source: PlaneSource::Structure,
    })
}

/// The inversion-asymmetry score c_i of every atom (see the module docs).
pub fn asymmetry_scores(structure: &Structure) -> Result<Vec<f64>> {
    let volume_per_atom = structure.cell.volume() / structure.len() as f64;
    let list_cutoff = 2.0 * volume_per_atom.cbrt();
    let list = NeighborList::build(structure, list_cutoff, 0.0, ListKind::Full)?;
    Ok((0..structure.len())
        .map(|i| {
            let neighbors: Vec<_> = list
                .neighbors_of(i, &structure.positions)
                .filter(|n| n.distance > 0.0 && n.distance <= list_cutoff)
                .collect();
            let Some(nearest) = neighbors.iter().map(|n| n.distance).min_by(f64::total_cmp) else {
                return 1.0;
            };
            let partners: Vec<_> = neighbors
                .iter()
                .filter(|n| n.distance <= PARTNER_FACTOR * nearest)
                .map(|n| n.vector)
                .collect();
            let shell: Vec<_> = neighbors
                .iter()
                .filter(|n| n.distance <= SHELL_FACTOR * nearest)
                .collect();
            let sum: f64 = shell
                .iter()
                .map(|n| {
                    let r2 = n.distance * n.distance;
                    partners
                        .iter()
                        .map(|p| (0..3).map(|c| (n.vector[c] + p[c]).powi(2)).sum::<f64>() / r2)
                        .fold(1.0, f64::min)
                })
                .sum();
            sum / shell.len() as f64
        })
        .collect())
}

/// The Gaussian-weighted mean of `scores` along `axis` on a periodic grid of about [`PROFILE_STEP_A`].
fn asymmetry_profile(structure: &Structure, scores: &[f64], axis: usize) -> Vec<f64> {
    let height = structure.cell.heights()[axis];
    let n_grid = ((height / PROFILE_STEP_A).round() as usize).max(8);
    let step = height / n_grid as f64;
    let z = axis_coordinates(structure, axis);
    let (mut weighted, mut weights) = (vec![0.0; n_grid], vec![0.0; n_grid]);
    let reach = (4.0 * SMOOTHING_SIGMA_A / step).ceil() as i64;
    for (&zi, &ci) in z.iter().zip(scores) {
        let centre = (zi / step).round() as i64;
        for g in centre - reach..=centre + reach {
            let d = g as f64 * step - zi;
            let k = (-0.5 * (d / SMOOTHING_SIGMA_A).powi(2)).exp();
            let slot = g.rem_euclid(n_grid as i64) as usize;
            weighted[slot] += k * ci;
            weights[slot] += k;
        }
    }
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    weighted
        .iter()
        .zip(&weights)
        .map(|(&w, &k)| if k > 1e-12 { w / k } else { mean })
        .collect()
}

/// max − median of a profile.
fn profile_contrast(profile: &[f64]) -> f64 {
    let mut sorted = profile.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() - 1] - sorted[sorted.len() / 2]
}

/// The highest peak of a periodic profile over [0, h) and the highest point at least h/4 from it, each
/// refined by a parabola through its grid neighbours (positions in Å).
fn two_peaks(profile: &[f64], height: f64) -> Vec<f64> {
    let n = profile.len();
    let argmax = |candidates: &mut dyn Iterator<Item = usize>| {
        candidates
            .max_by(|&a, &b| profile[a].total_cmp(&profile[b]))
            .expect("a non-empty profile")
    };
    let first = argmax(&mut (0..n));
    let min_gap = n / 4;
    let second = argmax(&mut (0..n).filter(|&g| {
        let d = g.abs_diff(first);
        d.min(n - d) >= min_gap
    }));
    [first, second]
        .map(|g| {
            let (left, centre, right) = (profile[(g + n - 1) % n], profile[g], profile[(g + 1) % n]);
            let curvature = left - 2.0 * centre + right;
            let offset = if curvature < 0.0 {
                0.5 * (left - right) / curvature
            } else {
                0.0
            };
            ((g as f64 + offset.clamp(-0.5, 0.5)) * height / n as f64).rem_euclid(height)
        })
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circular_run_wraps_around_the_ends() {
        // +1 at both ends: the best run is [5, 6, 0, 1] (circular), sum 4.
        let v = [1, 1, -1, -1, -1, 1, 1];
        assert_eq!(max_circular_run(&v), (4, 5, 8));
        // A linear run in the middle.
        let v = [-1, 1, 1, 1, -1, -1];
        assert_eq!(max_circular_run(&v), (3, 1, 3));
    }

    #[test]
    fn parabola_refines_a_peak_between_grid_points() {
        // Samples of −(x − 10.3)² on x = 0..40, period 40: the refined peak is at 10.3.
        let profile: Vec<f64> = (0..40)
            .map(|g| {
                let d = periodic_difference(g as f64 - 10.3, 40.0);
                let e = periodic_difference(g as f64 - 30.0, 40.0);
                (-(d * d)).max(-(e * e) - 1.0)
            })
            .collect();
        let peaks = two_peaks(&profile, 40.0);
        assert!((peaks[0] - 10.3).abs() < 1e-9, "{peaks:?}");
        assert!((peaks[1] - 30.0).abs() < 1e-9, "{peaks:?}");
    }
}
