//! Atoms sorted into the bins of a [`Grid`] and the traversal that finds the neighbours of one atom at a
//! time, so that rows come out in the caller's atom order and go straight into the compressed rows.
//!
//! Layout: the binned atoms are stored in bin order (c fastest), and within a bin in increasing caller's
//! index (a stable counting sort). Rows are visited in the caller's order i = 0, 1, 2, …; for a half list
//! each bin keeps a cursor at its first atom with caller's index > i, so the candidates j > i of a bin are
//! the contiguous suffix from the cursor: each pair is tested once, from its lower index, and no sort of
//! pairs into rows is needed. A full list scans whole bins (less the atom itself).
//!
//! The candidates of a bin are tested in blocks of [`LANES`] without branches (the compiler turns a block
//! into vector compares and a bit mask); a block may read past the bin's end into the next bin or the
//! padding, and those lanes are masked off.

use super::grid::{Grid, Stencil, Step, wrap_into_cell};
use super::{ListKind, check_positions};
use crate::cell::Cell;
use crate::linalg::Vec3;
use crate::{Error, Result};
use std::ops::ControlFlow;

/// Candidates tested together in [`RowScanner::scan`].
const LANES: usize = 4;

/// Atoms sorted into bins: positions wrapped into the cell along periodic directions and stored in bin
/// order (structure of arrays, padded by [`LANES`] entries), with the image offset that was removed and
/// the caller's index; for each caller's atom, where it was stored and its bin. Kept between rebuilds to
/// reuse its memory.
#[derive(Clone, Debug, Default)]
pub(super) struct Binning {
    pub(super) grid: Grid,
    stencil: Stencil,
    /// Wrapped positions w = x − n·M (Å), in bin order, by component.
    xs: Vec<f64>,
    ys: Vec<f64>,
    zs: Vec<f64>,
    /// Image offset n of each binned atom (x = w + n·M).
    image: Vec<[i32; 3]>,
    /// Caller's index of each binned atom.
    original: Vec<u32>,
    /// Start of each bin in the binned arrays (length bins + 1).
    bin_start: Vec<usize>,
    /// Position of each caller's atom in the binned arrays.
    slot: Vec<u32>,
    /// Bin coordinates of each caller's atom.
    bin: Vec<[u32; 3]>,
    /// Fractional coordinates of each caller's atom (scratch).
    fractional: Vec<Vec3>,
}

impl Binning {
    /// Sort atoms at `positions` (Å) in `cell` into bins at least `range` (Å) wide, reusing this
    /// binning's memory. Errors on non-finite positions, positions absurdly far outside the cell and
    /// ranges that span an absurd number of images; the binning is then unusable until refilled.
    pub(super) fn fill(&mut self, cell: &Cell, positions: &[Vec3], range: f64) -> Result<()> {
        check_positions(positions)?;
        self.fractional.clear();
        self.fractional.reserve(positions.len());
        for (i, &x) in positions.iter().enumerate() {
            let (s, _, _) = wrap_into_cell(cell, x)
                .ok_or_else(|| Error::Invalid(format!("atom {i} at {x:?} lies too many cells away from the cell")))?;
            self.fractional.push(s);
        }
        self.grid = Grid::new(cell, &self.fractional, range)?;
        self.stencil = self.grid.stencil(cell);
        self.bin.clear();
        self.bin.extend(self.fractional.iter().map(|&s| self.grid.bin_of(s)));
        self.count_bins();
        self.store_in_bin_order(cell, positions);
        Ok(())
    }

    /// `bin_start` from the bins of the atoms: prefix sums of bin occupancy.
    fn count_bins(&mut self) {
        let n_bins = self.grid.n_bins();
        self.bin_start.clear();
        self.bin_start.resize(n_bins + 1, 0);
        for &b in &self.bin {
            self.bin_start[self.grid.flat(b) + 1] += 1;
        }
        for b in 0..n_bins {
            self.bin_start[b + 1] += self.bin_start[b];
        }
    }

    /// The stable counting sort of the atoms into bin order.
    fn store_in_bin_order(&mut self, cell: &Cell, positions: &[Vec3]) {
        let n = positions.len();
        for v in [&mut self.xs, &mut self.ys, &mut self.zs] {
            v.clear();
            v.resize(n + LANES, 0.0);
        }
        self.image.clear();
        self.image.resize(n, [0; 3]);
        self.original.clear();
        self.original.resize(n, 0);
        self.slot.clear();
        let mut next = self.bin_start.clone();
        for (i, &x) in positions.iter().enumerate() {
            let fill = &mut next[self.grid.flat(self.bin[i])];
            let p = *fill;
            *fill += 1;
            let (_, w, n) = wrap_into_cell(cell, x).expect("checked while binning");
            (self.xs[p], self.ys[p], self.zs[p]) = (w[0], w[1], w[2]);
            self.image[p] = n;
            self.original[p] = i as u32;
            self.slot.push(p as u32);
        }
    }

    /// Number of binned atoms.
    pub(super) fn len(&self) -> usize {
        self.slot.len()
    }

    /// Fill the CSR arrays (`offsets`, `neighbors`, `shifts`, replaced, their memory reused) with every
    /// pair within √`range2` of the binned atoms and `cell`: a half list stores each pair once in the
    /// half-list convention, a full list in both directions. Within a row, neighbours come in bin order
    /// of the stencil, then the atom's own images.
    pub(super) fn fill_rows(
        &self,
        cell: &Cell,
        range2: f64,
        kind: ListKind,
        offsets: &mut Vec<usize>,
        neighbors: &mut Vec<u32>,
        shifts: &mut Vec<[i32; 3]>,
    ) {
        let own_images = self.grid.own_image_shifts(cell, range2, kind == ListKind::Half);
        offsets.clear();
        offsets.reserve(self.len() + 1);
        offsets.push(0);
        neighbors.clear();
        shifts.clear();
        let mut scanner = RowScanner::new(self, range2, kind);
        for i in 0..self.len() {
            let _ = scanner.row(i, |hit| {
                neighbors.push(hit.index);
                shifts.push(hit.shift);
                ControlFlow::<()>::Continue(())
            });
            for &shift in &own_images {
                neighbors.push(i as u32);
                shifts.push(shift);
            }
            offsets.push(neighbors.len());
        }
    }
}

/// A neighbour found by [`RowScanner::row`]: caller's index, image shift relative to the caller's
/// positions (r = x_index + shift·M − x_i) and squared distance (Å²).
#[derive(Clone, Copy, Debug)]
pub(super) struct Hit {
    pub(super) index: u32,
    pub(super) shift: [i32; 3],
    pub(super) distance2: f64,
}

/// The traversal of the rows of a [`Binning`], one atom at a time.
pub(super) struct RowScanner<'a> {
    binning: &'a Binning,
    range2: f64,
    kind: ListKind,
    /// Half lists: the first binned atom of each bin whose caller's index exceeds the current row's.
    cursor: Vec<usize>,
}

impl<'a> RowScanner<'a> {
    pub(super) fn new(binning: &'a Binning, range2: f64, kind: ListKind) -> RowScanner<'a> {
        let n_bins = binning.bin_start.len().saturating_sub(1);
        RowScanner {
            binning,
            range2,
            kind,
            cursor: binning.bin_start[..n_bins].to_vec(),
        }
    }

    /// Call `hit` for every neighbour of atom `i` within range other than the atom's own images: for a
    /// half list the atoms j > i (rows must then be visited in order i = 0, 1, 2, …), for a full list
    /// every atom j ≠ i; each at every image shift within range. Stops when `hit` breaks.
    pub(super) fn row<F>(&mut self, i: usize, mut hit: F) -> ControlFlow<()>
    where
        F: FnMut(Hit) -> ControlFlow<()>,
    {
        let b = self.binning;
        let p = b.slot[i] as usize;
        let home = b.bin[i];
        let own_bin = b.grid.flat(home);
        if self.kind == ListKind::Half {
            debug_assert_eq!(self.cursor[own_bin], p, "half-list rows are visited in order");
            self.cursor[own_bin] = p + 1;
        }
        let w = [b.xs[p], b.ys[p], b.zs[p]];
        let image = b.image[p];
        for step_a in b.stencil.steps(0, home[0]).iter().flatten() {
            for step_b in b.stencil.steps(1, home[1]).iter().flatten() {
                let flat_ab = step_a.flat + step_b.flat;
                let t_ab = [0, 1, 2].map(|k| step_a.translation[k] + step_b.translation[k]);
                for step_c in b.stencil.steps(2, home[2]).iter().flatten() {
                    let bin = flat_ab + step_c.flat;
                    // r = w_k + T − w_i = w_k − origin.
                    let origin = [0, 1, 2].map(|k| w[k] - (t_ab[k] + step_c.translation[k]));
                    let base = shift_base(image, [step_a, step_b, step_c]);
                    let end = b.bin_start[bin + 1];
                    match self.kind {
                        ListKind::Half => self.scan(origin, base, self.cursor[bin], end, &mut hit)?,
                        ListKind::Full if bin == own_bin => {
                            self.scan(origin, base, b.bin_start[bin], p, &mut hit)?;
                            self.scan(origin, base, p + 1, end, &mut hit)?;
                        }
                        ListKind::Full => self.scan(origin, base, b.bin_start[bin], end, &mut hit)?,
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Call `hit` for every binned atom k in `first..end` with |w_k − origin|² ≤ range², with shift
    /// `base` − n_k.
    #[inline(always)]
    fn scan<F>(&self, origin: Vec3, base: [i32; 3], first: usize, end: usize, hit: &mut F) -> ControlFlow<()>
    where
        F: FnMut(Hit) -> ControlFlow<()>,
    {
        let b = self.binning;
        let distance2 = |k: usize| {
            let (dx, dy, dz) = (b.xs[k] - origin[0], b.ys[k] - origin[1], b.zs[k] - origin[2]);
            dx * dx + dy * dy + dz * dz
        };
        let mut k = first;
        while k < end {
            let (bx, by, bz) = (lanes(&b.xs, k), lanes(&b.ys, k), lanes(&b.zs, k));
            let mut mask = 0u32;
            for l in 0..LANES {
                let (dx, dy, dz) = (bx[l] - origin[0], by[l] - origin[1], bz[l] - origin[2]);
                let d2 = dx * dx + dy * dy + dz * dz;
                mask |= ((d2 <= self.range2) as u32) << l;
            }
            let valid = (end - k).min(LANES);
            mask &= (1u32 << valid) - 1;
            while mask != 0 {
                let at = k + mask.trailing_zeros() as usize;
                mask &= mask - 1;
                let n = b.image[at];
                hit(Hit {
                    index: b.original[at],
                    shift: [base[0] - n[0], base[1] - n[1], base[2] - n[2]],
                    distance2: distance2(at),
                })?;
            }
            k += LANES;
        }
        ControlFlow::Continue(())
    }
}

/// n_i + S, the shift of a neighbour before its own image offset is removed.
#[inline(always)]
fn shift_base(image: [i32; 3], steps: [&Step; 3]) -> [i32; 3] {
    [0, 1, 2].map(|k| image[k] + steps[k].shift)
}

/// The [`LANES`] values from `k` (the arrays are padded so that a block starting at any atom fits).
#[inline(always)]
fn lanes(values: &[f64], k: usize) -> &[f64; LANES] {
    values[k..k + LANES].try_into().expect("padded by LANES")
}
