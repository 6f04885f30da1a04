//! Microstructures for the finite-volume solver: a regular grid of nx × ny × nz cubic cells of edge h (m)
//! with one grain id per cell. Grain boundaries are not meshed: a GB is any face between two cells of
//! different grain ids, and the solver gives that face the thin-interface conductance D_gb/δ.
//!
//! Constructors: [`Microstructure::layered`] (layers normal to one axis), [`Microstructure::voronoi`]
//! (a seeded power-diagram polycrystal with a grain-size distribution), [`Microstructure::from_grain_map`]
//! (an integer image), and [`label_boundary_image`] (a GB-pixel image → grain ids). 2D means nz = 1;
//! 1D means ny = nz = 1.

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use thiserror::Error;

/// Errors from building a microstructure.
#[derive(Debug, Error, PartialEq)]
pub enum MicrostructureError {
    #[error("grid must have at least one cell along each axis, got {nx} × {ny} × {nz}")]
    EmptyGrid { nx: usize, ny: usize, nz: usize },
    #[error("grid {nx} × {ny} × {nz} has more than {} cells", MAX_CELLS)]
    GridTooLarge { nx: usize, ny: usize, nz: usize },
    #[error("cell size h must be finite and > 0, got {0} m")]
    BadSpacing(f64),
    #[error("grain map has {got} entries but nx × ny = {expected}")]
    MapSize { got: usize, expected: usize },
    #[error("layer thicknesses must be a non-empty list of positive cell counts")]
    BadLayers,
    #[error("grain-size distribution needs mean > 0 and spread >= 0 (finite), got mean {mean} m, spread {spread} m")]
    BadGrainSize { mean: f64, spread: f64 },
    #[error("boundary image has no grain pixels (all pixels are GB)")]
    NoGrains,
    #[error("mean grain diameter {mean} m is below two grid cells (h = {h} m): the grid cannot resolve its grains")]
    GrainsBelowGrid { mean: f64, h: f64 },
}

/// A Cartesian axis of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    X,
    Y,
    Z,
}

impl Axis {
    /// Index 0, 1, 2 for x, y, z.
    pub fn index(self) -> usize {
        match self {
            Axis::X => 0,
            Axis::Y => 1,
            Axis::Z => 2,
        }
    }
}

/// A regular grid of cubic cells with a grain id per cell. Cell (i, j, k) has index i + nx (j + ny k) and
/// centre ((i + ½) h, (j + ½) h, (k + ½) h), the grid's corner being the origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Microstructure {
    dims: [usize; 3],
    h: f64,
    grain: Vec<u32>,
}

/// Grain statistics of a microstructure: count and equivalent-circle (2D) or equivalent-sphere (3D)
/// diameters, d = 2 √(A/π) or d = 2 (3V / 4π)^(1/3), in m.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GrainStats {
    pub n_grains: usize,
    pub mean_diameter_m: f64,
    pub std_diameter_m: f64,
}

impl Microstructure {
    /// A grid with all cells in grain 0 (a single crystal).
    pub fn uniform(dims: [usize; 3], h: f64) -> Result<Self, MicrostructureError> {
        check_grid(dims, h)?;
        Ok(Self {
            dims,
            h,
            grain: vec![0; dims.iter().product()],
        })
    }

    /// Layers normal to `axis`, each a new grain: their thicknesses (in cells) cycle through
    /// `layer_cells`. A GB lies between every two successive layers — the 1D series geometry of
    /// paper 003, eqn (5).
    pub fn layered(dims: [usize; 3], h: f64, axis: Axis, layer_cells: &[usize]) -> Result<Self, MicrostructureError> {
        check_grid(dims, h)?;
        if layer_cells.is_empty() || layer_cells.contains(&0) {
            return Err(MicrostructureError::BadLayers);
        }
        let n_along = dims[axis.index()];
        let mut layer_of = Vec::with_capacity(n_along);
        let mut layer = 0u32;
        while layer_of.len() < n_along {
            let thickness = layer_cells[layer as usize % layer_cells.len()];
            layer_of.extend(std::iter::repeat_n(layer, thickness));
            layer += 1;
        }
        let mut m = Self::uniform(dims, h)?;
        for idx in 0..m.grain.len() {
            m.grain[idx] = layer_of[m.coords(idx)[axis.index()]];
        }
        Ok(m)
    }

    /// A 2D microstructure (nz = 1) from an integer grain map in row-major order (x fastest), pixel
    /// edge `pixel` (m). Ids are kept as given; equal ids mean the same grain.
    pub fn from_grain_map(ids: &[u32], nx: usize, ny: usize, pixel: f64) -> Result<Self, MicrostructureError> {
        check_grid([nx, ny, 1], pixel)?;
        if ids.len() != nx * ny {
            return Err(MicrostructureError::MapSize {
                got: ids.len(),
                expected: nx * ny,
            });
        }
        Ok(Self {
            dims: [nx, ny, 1],
            h: pixel,
            grain: ids.to_vec(),
        })
    }

    /// A seeded polycrystal (2D when nz = 1, else 3D) whose grains are the cells of a power (Laguerre)
    /// diagram: cell → argmin_i |x − s_i|² − r_i². Target grain diameters d_i are drawn from a log-normal
    /// distribution with mean `mean_diameter` and standard deviation `spread` (m; `spread` = 0 gives
    /// equal targets), as many as fill the domain; seeds are placed by random sequential addition with
    /// the exclusion |s_i − s_j| ≥ α (r_i + r_j), α lowered when the domain jams. The realised
    /// diameters follow from [`Microstructure::grain_stats`]. Cost O(cells × grains).
    pub fn voronoi(
        dims: [usize; 3],
        h: f64,
        mean_diameter: f64,
        spread: f64,
        seed: u64,
    ) -> Result<Self, MicrostructureError> {
        check_grid(dims, h)?;
        if !(mean_diameter.is_finite() && mean_diameter > 0.0 && spread.is_finite() && spread >= 0.0) {
            return Err(MicrostructureError::BadGrainSize {
                mean: mean_diameter,
                spread,
            });
        }
        if mean_diameter < 2.0 * h {
            return Err(MicrostructureError::GrainsBelowGrid { mean: mean_diameter, h });
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let dim = if dims[2] == 1 { 2 } else { 3 };
        let extent = dims.map(|n| n as f64 * h);
        let radii = draw_radii(&mut rng, dim, extent, mean_diameter, spread)?;
        let seeds = place_seeds(&mut rng, dim, extent, &radii);
        let mut m = Self::uniform(dims, h)?;
        for idx in 0..m.grain.len() {
            let x = m.centre(idx);
            m.grain[idx] = nearest_power_seed(&x, &seeds, &radii) as u32;
        }
        m.relabel_compact();
        Ok(m)
    }

    /// Grid dimensions [nx, ny, nz].
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// Cell edge h (m).
    pub fn h(&self) -> f64 {
        self.h
    }

    /// Number of cells.
    pub fn n_cells(&self) -> usize {
        self.grain.len()
    }

    /// Grain id per cell.
    pub fn grains(&self) -> &[u32] {
        &self.grain
    }

    /// Linear index of cell (i, j, k).
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        i + self.dims[0] * (j + self.dims[1] * k)
    }

    /// (i, j, k) of a linear index.
    pub fn coords(&self, idx: usize) -> [usize; 3] {
        let [nx, ny, _] = self.dims;
        [idx % nx, (idx / nx) % ny, idx / (nx * ny)]
    }

    /// Centre of a cell (m).
    pub fn centre(&self, idx: usize) -> [f64; 3] {
        self.coords(idx).map(|c| (c as f64 + 0.5) * self.h)
    }

    /// Whether the face between two neighbouring cells is a grain boundary.
    pub fn is_gb(&self, a: usize, b: usize) -> bool {
        self.grain[a] != self.grain[b]
    }

    /// Number of interior faces that are grain boundaries.
    pub fn n_gb_faces(&self) -> usize {
        self.interior_faces().filter(|&(a, b, _)| self.is_gb(a, b)).count()
    }

    /// All interior faces as (lower cell, upper cell, axis index), each once.
    pub fn interior_faces(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let [nx, ny, nz] = self.dims;
        let strides = [1, nx, nx * ny];
        (0..self.grain.len()).flat_map(move |idx| {
            let c = self.coords(idx);
            let n = [nx, ny, nz];
            (0..3).filter_map(move |a| (c[a] + 1 < n[a]).then_some((idx, idx + strides[a], a)))
        })
    }

    /// Grain count and mean ± standard deviation of the equivalent-circle (nz = 1) or equivalent-sphere
    /// diameters of the grains, from their cell counts.
    pub fn grain_stats(&self) -> GrainStats {
        let n_ids = self.grain.iter().copied().max().map_or(0, |m| m as usize + 1);
        let mut counts = vec![0usize; n_ids];
        for &g in &self.grain {
            counts[g as usize] += 1;
        }
        let is_2d = self.dims[2] == 1;
        let diameters: Vec<f64> = counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                if is_2d {
                    2.0 * (c as f64 * self.h * self.h / std::f64::consts::PI).sqrt()
                } else {
                    2.0 * (3.0 * c as f64 * self.h.powi(3) / (4.0 * std::f64::consts::PI)).cbrt()
                }
            })
            .collect();
        let n = diameters.len() as f64;
        let mean = diameters.iter().sum::<f64>() / n;
        let var = diameters.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        GrainStats {
            n_grains: diameters.len(),
            mean_diameter_m: mean,
            std_diameter_m: var.sqrt(),
        }
    }

    /// Renumber grain ids to 0..n in order of first appearance.
    fn relabel_compact(&mut self) {
        let mut map = std::collections::HashMap::new();
        for g in self.grain.iter_mut() {
            let next = map.len() as u32;
            *g = *map.entry(*g).or_insert(next);
        }
    }
}

fn check_grid(dims: [usize; 3], h: f64) -> Result<(), MicrostructureError> {
    if dims.contains(&0) {
        return Err(MicrostructureError::EmptyGrid {
            nx: dims[0],
            ny: dims[1],
            nz: dims[2],
        });
    }
    if !(h.is_finite() && h > 0.0) {
        return Err(MicrostructureError::BadSpacing(h));
    }
    if dims.iter().map(|&n| n as f64).product::<f64>() > MAX_CELLS as f64 {
        return Err(MicrostructureError::GridTooLarge {
            nx: dims[0],
            ny: dims[1],
            nz: dims[2],
        });
    }
    Ok(())
}

/// Most grid cells a microstructure may have (10⁸: some 10 GB for the solver's sparse factors).
pub const MAX_CELLS: usize = 100_000_000;

/// Draw target radii until the grains' total area (2D) or volume (3D) reaches the domain's.
fn draw_radii(
    rng: &mut Xoshiro256PlusPlus,
    dim: usize,
    extent: [f64; 3],
    mean: f64,
    spread: f64,
) -> Result<Vec<f64>, MicrostructureError> {
    let domain: f64 = extent[..dim].iter().product();
    let measure = |d: f64| {
        if dim == 2 {
            std::f64::consts::PI * d * d / 4.0
        } else {
            std::f64::consts::PI * d.powi(3) / 6.0
        }
    };
    let lognormal = if spread > 0.0 {
        Some(
            LogNormal::from_mean_cv(mean, spread / mean)
                .map_err(|_| MicrostructureError::BadGrainSize { mean, spread })?,
        )
    } else {
        None
    };
    let mut radii = Vec::new();
    let mut filled = 0.0;
    while filled < domain {
        let d = lognormal.as_ref().map_or(mean, |ln| ln.sample(rng));
        filled += measure(d);
        radii.push(d / 2.0);
    }
    // Largest grains are placed first, as in random sequential packing of polydisperse discs.
    radii.sort_by(|a, b| b.total_cmp(a));
    Ok(radii)
}

/// Random sequential addition of seeds with a soft exclusion α (r_i + r_j), α shrinking by 10 % each
/// time 200 successive trials fail, so placement always finishes.
fn place_seeds(rng: &mut Xoshiro256PlusPlus, dim: usize, extent: [f64; 3], radii: &[f64]) -> Vec<[f64; 3]> {
    const TRIALS_BEFORE_SHRINK: usize = 200;
    let mut alpha = 0.8;
    let mut seeds: Vec<[f64; 3]> = Vec::with_capacity(radii.len());
    for &r in radii {
        let mut failures = 0;
        loop {
            let mut s = [0.0; 3];
            for a in 0..3 {
                s[a] = if a < dim {
                    rng.random::<f64>() * extent[a]
                } else {
                    extent[a] / 2.0
                };
            }
            let clear = seeds
                .iter()
                .zip(radii)
                .all(|(q, &rq)| dist2(&s, q) >= (alpha * (r + rq)).powi(2));
            if clear {
                seeds.push(s);
                break;
            }
            failures += 1;
            if failures == TRIALS_BEFORE_SHRINK {
                alpha *= 0.9;
                failures = 0;
            }
        }
    }
    seeds
}

fn dist2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    (0..3).map(|i| (a[i] - b[i]).powi(2)).sum()
}

fn nearest_power_seed(x: &[f64; 3], seeds: &[[f64; 3]], radii: &[f64]) -> usize {
    let mut best = (f64::INFINITY, 0);
    for (i, (s, r)) in seeds.iter().zip(radii).enumerate() {
        let p = dist2(x, s) - r * r;
        if p < best.0 {
            best = (p, i);
        }
    }
    best.1
}

/// Label a boundary image (nx × ny, row-major, `true` = GB pixel) into grain ids: 4-connected regions of
/// grain pixels get ids 0, 1, ... in scan order; GB pixels are then given, by repeated dilation, the
/// id of the most common labelled 4-neighbour (ties to the smallest id), so the GB becomes the face
/// between grains as the thin-interface solver expects.
pub fn label_boundary_image(boundary: &[bool], nx: usize, ny: usize) -> Result<Vec<u32>, MicrostructureError> {
    check_grid([nx, ny, 1], 1.0)?;
    if boundary.len() != nx * ny {
        return Err(MicrostructureError::MapSize {
            got: boundary.len(),
            expected: nx * ny,
        });
    }
    let neighbours = |p: usize| {
        let (i, j) = (p % nx, p / nx);
        [
            (i > 0).then(|| p - 1),
            (i + 1 < nx).then(|| p + 1),
            (j > 0).then(|| p - nx),
            (j + 1 < ny).then(|| p + nx),
        ]
        .into_iter()
        .flatten()
    };
    let mut label: Vec<Option<u32>> = vec![None; nx * ny];
    let mut next = 0u32;
    for start in 0..nx * ny {
        if boundary[start] || label[start].is_some() {
            continue;
        }
        label[start] = Some(next);
        let mut stack = vec![start];
        while let Some(p) = stack.pop() {
            for q in neighbours(p) {
                if !boundary[q] && label[q].is_none() {
                    label[q] = Some(next);
                    stack.push(q);
                }
            }
        }
        next += 1;
    }
    if next == 0 {
        return Err(MicrostructureError::NoGrains);
    }
    while label.iter().any(Option::is_none) {
        let snapshot = label.clone();
        for p in 0..nx * ny {
            if snapshot[p].is_some() {
                continue;
            }
            let mut votes: Vec<u32> = neighbours(p).filter_map(|q| snapshot[q]).collect();
            votes.sort_unstable();
            label[p] = most_common(&votes);
        }
    }
    Ok(label.into_iter().map(|l| l.unwrap_or(0)).collect())
}

/// The most common value of a sorted slice (smallest on ties), None when empty.
fn most_common(sorted: &[u32]) -> Option<u32> {
    let mut best: Option<(usize, u32)> = None;
    for run in sorted.chunk_by(|a, b| a == b) {
        if best.is_none_or(|(n, _)| run.len() > n) {
            best = Some((run.len(), run[0]));
        }
    }
    best.map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layered_puts_gbs_between_layers_only() {
        let m = Microstructure::layered([10, 3, 1], 1e-6, Axis::X, &[4, 2]).unwrap();
        // layers along x: cells 0-3 grain 0, 4-5 grain 1, 6-9 grain 2 → 2 GB planes × 3 rows
        assert_eq!(m.grains()[m.index(3, 1, 0)], 0);
        assert_eq!(m.grains()[m.index(4, 1, 0)], 1);
        assert_eq!(m.grains()[m.index(9, 2, 0)], 2);
        assert_eq!(m.n_gb_faces(), 6);
    }

    #[test]
    fn interior_face_count_matches_grid() {
        let m = Microstructure::uniform([4, 3, 2], 1.0).unwrap();
        // (nx-1) ny nz + nx (ny-1) nz + nx ny (nz-1)
        assert_eq!(m.interior_faces().count(), 3 * 3 * 2 + 4 * 2 * 2 + 4 * 3);
        assert_eq!(m.n_gb_faces(), 0);
    }

    #[test]
    fn voronoi_realises_the_target_mean_diameter_and_reproduces_with_seed() {
        let h = 1e-6;
        let target = 16e-6;
        let a = Microstructure::voronoi([200, 200, 1], h, target, 5e-6, 7).unwrap();
        let b = Microstructure::voronoi([200, 200, 1], h, target, 5e-6, 7).unwrap();
        assert_eq!(a, b);
        let stats = a.grain_stats();
        // edge grains are truncated, so the realised mean is a little below the target
        assert!((stats.mean_diameter_m / target - 1.0).abs() < 0.2, "{stats:?}");
        assert!(stats.n_grains > 100);
        let c = Microstructure::voronoi([200, 200, 1], h, target, 5e-6, 8).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn voronoi_spread_widens_the_realised_distribution() {
        let narrow = Microstructure::voronoi([200, 200, 1], 1e-6, 16e-6, 0.0, 3)
            .unwrap()
            .grain_stats();
        let wide = Microstructure::voronoi([200, 200, 1], 1e-6, 16e-6, 11e-6, 3)
            .unwrap()
            .grain_stats();
        assert!(wide.std_diameter_m > 1.5 * narrow.std_diameter_m, "{narrow:?} {wide:?}");
    }

    #[test]
    fn voronoi_grains_below_two_cells_are_an_error() {
        // 1 nm grains on a 1 µm grid: once 10¹⁰ seeds and an allocation abort.
        assert!(matches!(
            Microstructure::voronoi([200, 200, 1], 1e-6, 1e-9, 0.0, 3),
            Err(MicrostructureError::GrainsBelowGrid { .. })
        ));
        assert!(Microstructure::voronoi([20, 20, 1], 1e-6, 2e-6, 0.0, 3).is_ok());
    }

    #[test]
    fn voronoi_3d_realises_the_target_equivalent_sphere_diameter() {
        let m = Microstructure::voronoi([40, 40, 40], 1e-6, 10e-6, 2e-6, 4).unwrap();
        let stats = m.grain_stats();
        assert!(stats.n_grains > 40, "{stats:?}");
        assert!((stats.mean_diameter_m / 10e-6 - 1.0).abs() < 0.25, "{stats:?}");
    }

    #[test]
    fn boundary_image_labels_two_grains_and_absorbs_the_gb_line() {
        // 5 × 3 image with a vertical GB line at i = 2
        let nx = 5;
        let boundary: Vec<bool> = (0..15).map(|p| p % nx == 2).collect();
        let ids = label_boundary_image(&boundary, nx, 3).unwrap();
        assert!(ids.iter().all(|&g| g < 2));
        assert_eq!(ids[0], ids[1]);
        assert_eq!(ids[3], ids[4]);
        assert_ne!(ids[0], ids[4]);
        let m = Microstructure::from_grain_map(&ids, nx, 3, 1e-6).unwrap();
        assert_eq!(m.n_gb_faces(), 3);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert_eq!(
            Microstructure::from_grain_map(&[0, 1], 3, 1, 1e-6),
            Err(MicrostructureError::MapSize { got: 2, expected: 3 })
        );
        assert!(Microstructure::uniform([0, 1, 1], 1.0).is_err());
        assert!(Microstructure::uniform([1, 1, 1], f64::NAN).is_err());
        assert!(Microstructure::voronoi([10, 10, 1], 1.0, -1.0, 0.0, 0).is_err());
        assert_eq!(
            label_boundary_image(&[true; 4], 2, 2),
            Err(MicrostructureError::NoGrains)
        );
    }
}
