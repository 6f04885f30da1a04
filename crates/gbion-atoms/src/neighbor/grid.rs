//! The bin grid of a neighbour-list build: how many bins along each lattice direction, how many bins away
//! a neighbour within range can be (the stencil's reach), the steps from a bin to the bins around it with
//! the periodic image crossed (merged along c into runs of consecutive bins), and the lattice
//! translations at which an atom sees its own images.

use super::add_translation;
use crate::cell::Cell;
use crate::linalg::{Vec3, dot};
use crate::{Error, Result};

/// Largest |image offset| of a position accepted (cells away from the given cell), so that every shift
/// sum fits an `i32`.
const MAX_IMAGE_OFFSET: f64 = (1i64 << 29) as f64;
/// Largest number of bin offsets searched around a bin; more means the range spans an absurd number of
/// periodic images of a thin cell.
const MAX_STENCIL: usize = 10_000_000;
/// Relative margin that keeps a bin at least as wide as the range despite rounding.
const WIDTH_MARGIN: f64 = 1e-9;

/// The bin grid along the three lattice directions.
#[derive(Clone, Debug, Default)]
pub(super) struct Grid {
    /// Bins along a, b, c.
    pub(super) counts: [usize; 3],
    /// How many bins away a neighbour within range can be, along a, b, c.
    reach: [usize; 3],
    pbc: [bool; 3],
    /// Fractional coordinate where bin 0 starts (0 along periodic directions, the atoms' minimum
    /// otherwise).
    start: Vec3,
    /// Bins per unit of fractional coordinate: counts / span (0 where the span is 0).
    scale: Vec3,
}

impl Grid {
    /// A grid over atoms at fractional coordinates `fractional` (wrapped along periodic directions) whose
    /// bins are at least `range` (Å) wide perpendicular to their faces, with at most about `2 N + 64`
    /// bins in all (bins only grow when capped, so `reach` stays valid).
    pub(super) fn new(cell: &Cell, fractional: &[Vec3], range: f64) -> Result<Grid> {
        let pbc = cell.pbc();
        let (start, span) = fractional_extent(fractional, pbc);
        let heights = cell.heights();
        let width = |k: usize| span[k] * heights[k];
        let mut counts = [0, 1, 2].map(|k| {
            let fit = (width(k) / (range * (1.0 + WIDTH_MARGIN))).floor();
            if fit >= 1.0 { fit.min(1e9) as usize } else { 1 }
        });
        let max_bins = 2 * fractional.len() + 64;
        while total_bins(counts) > max_bins {
            let widest = (0..3).max_by_key(|&k| counts[k]).expect("three axes");
            counts[widest] = counts[widest].div_ceil(2);
        }
        let mut reach = [0usize; 3];
        for k in 0..3 {
            let bins_in_range = (range * counts[k] as f64 / width(k)).ceil();
            let limit = if pbc[k] { f64::INFINITY } else { (counts[k] - 1) as f64 };
            reach[k] = bins_in_range.min(limit).min(1e9) as usize;
        }
        let stencil: f64 = reach.iter().map(|&m| 2.0 * m as f64 + 1.0).product();
        if stencil > MAX_STENCIL as f64 {
            return Err(Error::Invalid(format!(
                "a range of {range} Å spans {reach:?} periodic images of a cell with perpendicular widths \
                 {heights:?} Å: too many to list"
            )));
        }
        let scale = [0, 1, 2].map(|k| if span[k] > 0.0 { counts[k] as f64 / span[k] } else { 0.0 });
        Ok(Grid {
            counts,
            reach,
            pbc,
            start,
            scale,
        })
    }

    pub(super) fn n_bins(&self) -> usize {
        total_bins(self.counts)
    }

    /// Bin coordinates of fractional coordinates `s` (wrapped into [0, 1) along periodic directions).
    #[inline]
    pub(super) fn bin_of(&self, s: Vec3) -> [u32; 3] {
        [
            self.bin_along(0, s[0]) as u32,
            self.bin_along(1, s[1]) as u32,
            self.bin_along(2, s[2]) as u32,
        ]
    }

    #[inline(always)]
    fn bin_along(&self, k: usize, s: f64) -> usize {
        // In [0, counts] up to rounding; the cast saturates (negative and NaN give 0).
        let t = (s - self.start[k]) * self.scale[k];
        (t as usize).min(self.counts[k] - 1)
    }

    /// Index of bin `b` in bin order (c fastest).
    pub(super) fn flat(&self, b: [u32; 3]) -> usize {
        (b[0] as usize * self.counts[1] + b[1] as usize) * self.counts[2] + b[2] as usize
    }

    /// The stencil of this grid: along a and b, for each bin b and offset d ∈ [−reach, reach], the bin
    /// b + d wrapped into the grid with the image shift crossed and its translation; offsets past a
    /// non-periodic edge are left out (they are the first or last ones, so the rest stay contiguous).
    /// Along c (stride 1 in bin order) the same steps merged into runs of consecutive bins crossed with
    /// one shift, so that a column of the stencil is one contiguous stretch of the binned atoms (two
    /// where it wraps around a periodic edge).
    pub(super) fn stencil(&self, cell: &Cell) -> Stencil {
        let strides = [self.counts[1] * self.counts[2], self.counts[2], 1];
        let axis = |k: usize| -> (Vec<Step>, Vec<usize>) {
            let n = self.counts[k] as i64;
            let m = self.reach[k] as i64;
            let mut unit = [0; 3];
            unit[k] = 1;
            let lattice_vector = cell.translation(unit);
            let mut steps = Vec::with_capacity(self.counts[k] * (2 * self.reach[k] + 1));
            let mut starts = Vec::with_capacity(self.counts[k] + 1);
            for b in 0..n {
                starts.push(steps.len());
                for d in -m..=m {
                    let v = b + d;
                    let (target, shift) = if self.pbc[k] {
                        (v.rem_euclid(n), v.div_euclid(n) as i32)
                    } else if (0..n).contains(&v) {
                        (v, 0)
                    } else {
                        continue;
                    };
                    steps.push(Step {
                        flat: target as usize * strides[k],
                        shift,
                        translation: lattice_vector.map(|x| x * f64::from(shift)),
                    });
                }
            }
            starts.push(steps.len());
            (steps, starts)
        };
        let [(a, sa), (b, sb), (c, sc)] = [0, 1, 2].map(axis);
        let (runs, run_starts) = merge_into_runs(&c, &sc);
        Stencil {
            axes: [a, b],
            starts: [sa, sb],
            runs,
            run_starts,
        }
    }

    /// The image shifts n ≠ 0 at which an atom sees itself within √`range2` (|n·M|² ≤ `range2`), with
    /// only the lexicographically positive ones when `positive_only`. An own image within range is at
    /// most `reach` bins away, so |n_k| ≤ reach_k / counts_k along periodic directions.
    pub(super) fn own_image_shifts(&self, cell: &Cell, range2: f64, positive_only: bool) -> Vec<[i32; 3]> {
        let bound = |k: usize| {
            if self.pbc[k] {
                (self.reach[k] / self.counts[k]) as i32
            } else {
                0
            }
        };
        let mut shifts = Vec::new();
        for a in -bound(0)..=bound(0) {
            for b in -bound(1)..=bound(1) {
                for c in -bound(2)..=bound(2) {
                    let shift = [a, b, c];
                    let keep = if positive_only { shift > [0; 3] } else { shift != [0; 3] };
                    let t = cell.translation(shift);
                    if keep && dot(t, t) <= range2 {
                        shifts.push(shift);
                    }
                }
            }
        }
        shifts
    }
}

/// One step of the stencil along one axis: the target bin's coordinate times its stride in bin order,
/// the image shift crossed and its translation (Å).
#[derive(Clone, Copy, Debug)]
pub(super) struct Step {
    pub(super) flat: usize,
    pub(super) shift: i32,
    pub(super) translation: Vec3,
}

/// One run of the stencil along c: the bins `first..=last` (c coordinates, stride 1 in bin order),
/// reached across one image shift, with its translation (Å).
#[derive(Clone, Copy, Debug)]
pub(super) struct Run {
    pub(super) first: usize,
    pub(super) last: usize,
    pub(super) shift: i32,
    pub(super) translation: Vec3,
}

/// Steps along a and b and runs along c from every bin by every offset within reach that stays in the
/// grid (table lookups instead of divisions in the traversal), bin after bin.
#[derive(Clone, Debug, Default)]
pub(super) struct Stencil {
    axes: [Vec<Step>; 2],
    /// Where each bin's steps start in `axes` (one more entry: the end).
    starts: [Vec<usize>; 2],
    runs: Vec<Run>,
    /// Where each c coordinate's runs start in `runs` (one more entry: the end).
    run_starts: Vec<usize>,
}

impl Stencil {
    /// The steps along axis `k` (a or b) from bin coordinate `b` that stay in the grid, in order of offset.
    #[inline]
    pub(super) fn steps(&self, k: usize, b: u32) -> &[Step] {
        let b = b as usize;
        &self.axes[k][self.starts[k][b]..self.starts[k][b + 1]]
    }

    /// The runs along c from bin coordinate `c`, in order of offset.
    #[inline]
    pub(super) fn runs(&self, c: u32) -> &[Run] {
        let c = c as usize;
        &self.runs[self.run_starts[c]..self.run_starts[c + 1]]
    }
}

/// The steps along c (stride 1), bin after bin (`starts`), merged into runs: a step joins the previous
/// run when it reaches the next bin with the same shift.
fn merge_into_runs(steps: &[Step], starts: &[usize]) -> (Vec<Run>, Vec<usize>) {
    let mut runs: Vec<Run> = Vec::with_capacity(steps.len());
    let mut run_starts = Vec::with_capacity(starts.len());
    for bin in starts.windows(2) {
        let first_run = runs.len();
        run_starts.push(first_run);
        for step in &steps[bin[0]..bin[1]] {
            let open = runs.len() > first_run;
            match runs.last_mut() {
                Some(run) if open && run.shift == step.shift && run.last + 1 == step.flat => {
                    run.last = step.flat;
                }
                _ => runs.push(Run {
                    first: step.flat,
                    last: step.flat,
                    shift: step.shift,
                    translation: step.translation,
                }),
            }
        }
    }
    run_starts.push(runs.len());
    (runs, run_starts)
}

/// The product of bin counts, saturating instead of overflowing.
fn total_bins(counts: [usize; 3]) -> usize {
    counts.iter().fold(1usize, |total, &c| total.saturating_mul(c))
}

/// Fractional coordinates of `x` wrapped into [0, 1) along periodic directions, the wrapped Cartesian
/// position w = x − n·M and the integer offset n removed; `None` when the offset is beyond
/// [`MAX_IMAGE_OFFSET`] or a coordinate is not finite.
#[inline]
pub(super) fn wrap_into_cell(cell: &Cell, x: Vec3) -> Option<(Vec3, Vec3, [i32; 3])> {
    let s = cell.to_fractional(x);
    if s.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let pbc = cell.pbc();
    let mut wrapped = s;
    let mut offset = [0i32; 3];
    for k in (0..3).filter(|&k| pbc[k]) {
        if s[k].abs() > MAX_IMAGE_OFFSET {
            return None;
        }
        let mut n = floor(s[k]);
        let mut w = s[k] - n;
        if w >= 1.0 {
            // s just below an integer rounds up: it belongs to the next cell's first bin.
            w = 0.0;
            n += 1.0;
        }
        wrapped[k] = w;
        offset[k] = n as i32;
    }
    let moved = if offset == [0; 3] {
        x
    } else {
        add_translation(x, cell, offset.map(|n| -n))
    };
    Some((wrapped, moved, offset))
}

/// ⌊s⌋ for |s| < 2⁶³ (here the image offsets, at most [`MAX_IMAGE_OFFSET`]), without
/// the library call `f64::floor` compiles to on baseline x86-64. NaN gives 0.
#[inline(always)]
fn floor(s: f64) -> f64 {
    let toward_zero = s as i64 as f64;
    if toward_zero > s {
        toward_zero - 1.0
    } else {
        toward_zero
    }
}

/// Start and extent of the grid in fractional coordinates: the unit interval along periodic directions,
/// the atoms' bounding interval along the others.
fn fractional_extent(fractional: &[Vec3], pbc: [bool; 3]) -> (Vec3, Vec3) {
    let mut start = [0.0; 3];
    let mut span = [1.0; 3];
    for k in (0..3).filter(|&k| !pbc[k]) {
        let low = fractional.iter().map(|s| s[k]).fold(f64::INFINITY, f64::min);
        let high = fractional.iter().map(|s| s[k]).fold(f64::NEG_INFINITY, f64::max);
        (start[k], span[k]) = if low.is_finite() { (low, high - low) } else { (0.0, 0.0) };
    }
    (start, span)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Along c, the steps from each bin merge into runs of consecutive bins with one shift, split where
    /// the stencil wraps around the periodic edge: 20.5 Å cell, 5 Å range, 4 bins per axis, reach 1.
    #[test]
    fn runs_along_c_merge_consecutive_bins_and_split_at_the_periodic_edge() {
        let cell = Cell::orthorhombic([20.5; 3]).expect("a valid cell");
        let grid = Grid::new(&cell, &[[0.5; 3]], 5.0).expect("a valid grid");
        assert_eq!(grid.counts, [4, 4, 4]);
        let stencil = grid.stencil(&cell);
        let runs = |c: u32| -> Vec<(usize, usize, i32, f64)> {
            stencil
                .runs(c)
                .iter()
                .map(|r| (r.first, r.last, r.shift, r.translation[2]))
                .collect()
        };
        assert_eq!(runs(0), [(3, 3, -1, -20.5), (0, 1, 0, 0.0)]);
        assert_eq!(runs(1), [(0, 2, 0, 0.0)]);
        assert_eq!(runs(2), [(1, 3, 0, 0.0)]);
        assert_eq!(runs(3), [(2, 3, 0, 0.0), (0, 0, 1, 20.5)]);
        // Along a and b the steps keep one bin each, with the stride of bin order.
        let along_a: Vec<(usize, i32)> = stencil.steps(0, 0).iter().map(|s| (s.flat, s.shift)).collect();
        assert_eq!(along_a, [(3 * 16, -1), (0, 0), (16, 0)]);
    }
}
