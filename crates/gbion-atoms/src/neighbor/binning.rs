//! Atoms sorted into the bins of a [`Grid`] and the traversal that finds the neighbours of one atom at a
//! time, so that rows come out in the caller's atom order and go straight into the compressed rows.
//!
//! Layout: the binned atoms are stored in bin order (c fastest), and within a bin in increasing caller's
//! index (a stable counting sort). Rows are visited in the caller's order i = 0, 1, 2, …; for a half list
//! each bin keeps a cursor at its first atom with caller's index > i, so the candidates j > i of a bin are
//! the contiguous suffix from the cursor: each pair is tested once, from its lower index, and no sort of
//! pairs into rows is needed. A full list scans whole bins (less the atom itself). The cursor and the end
//! of every bin sit in one table, and the stencil is walked axis by axis from per-axis step tables (bin
//! stride, image shift, translation), so a stencil bin costs one lookup.
//!
//! The candidates of a bin are tested in blocks without branches, in `f32`: 8 lanes by AVX2 intrinsics
//! when the CPU has AVX2 (detected at run time), else 4 lanes of portable code that the compiler keeps in
//! one SSE register; both give the same rows. A block may read past the bin's end into the next bin or
//! the padding, and those lanes are masked off. The `f32` test only discards candidates certainly out of
//! range (beyond range² plus a bound E on the rounding error); a candidate at most range² − 2E in `f32`
//! is certainly within range and is listed without more ado; any other candidate kept is decided by the
//! exact `f64` distance. So the list is what an `f64` test of every pair gives. Rows are written into the
//! vectors' spare capacity (no zero-filling of the list).

use super::grid::{Grid, Stencil, wrap_into_cell};
use super::{ListKind, check_positions};
use crate::cell::Cell;
use crate::linalg::Vec3;
use crate::{Error, Result};
use std::ops::ControlFlow;

/// Padding of the `f32` coordinates: the most candidates a kernel tests together in [`RowScanner::scan`].
const LANES: usize = 8;

/// Atoms sorted into bins: positions wrapped into the cell along periodic directions and stored in bin
/// order (structure of arrays, padded by [`LANES`] entries), with the image offset that was removed and
/// the caller's index; for each caller's atom, where it was stored and its bin. Kept between rebuilds to
/// reuse its memory.
#[derive(Clone, Debug, Default)]
pub(super) struct Binning {
    pub(super) grid: Grid,
    stencil: Stencil,
    /// Wrapped positions w = x − n·M (Å), in bin order.
    wrapped: Vec<Vec3>,
    /// The wrapped positions rounded to `f32`, by component, padded by [`LANES`] entries.
    xs: Vec<f32>,
    ys: Vec<f32>,
    zs: Vec<f32>,
    /// Largest |component| of a wrapped position (Å), for the rounding bound of the `f32` test.
    largest_coordinate: f64,
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
    /// Wrapped position and image offset of each caller's atom (scratch).
    moved: Vec<(Vec3, [i32; 3])>,
}

impl Binning {
    /// Sort atoms at `positions` (Å) in `cell` into bins at least `range` (Å) wide, reusing this
    /// binning's memory. Errors on non-finite positions, positions absurdly far outside the cell and
    /// ranges that span an absurd number of images; the binning is then unusable until refilled.
    pub(super) fn fill(&mut self, cell: &Cell, positions: &[Vec3], range: f64) -> Result<()> {
        check_positions(positions)?;
        self.fractional.clear();
        self.fractional.reserve(positions.len());
        self.moved.clear();
        self.moved.reserve(positions.len());
        for (i, &x) in positions.iter().enumerate() {
            let (s, w, n) = wrap_into_cell(cell, x)
                .ok_or_else(|| Error::Invalid(format!("atom {i} at {x:?} lies too many cells away from the cell")))?;
            self.fractional.push(s);
            self.moved.push((w, n));
        }
        self.grid = Grid::new(cell, &self.fractional, range)?;
        self.stencil = self.grid.stencil(cell);
        self.bin.clear();
        self.bin.extend(self.fractional.iter().map(|&s| self.grid.bin_of(s)));
        self.count_bins();
        self.store_in_bin_order();
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
    fn store_in_bin_order(&mut self) {
        let n = self.moved.len();
        for v in [&mut self.xs, &mut self.ys, &mut self.zs] {
            v.clear();
            v.resize(n + LANES, 0.0);
        }
        self.wrapped.clear();
        self.wrapped.resize(n, [0.0; 3]);
        self.image.clear();
        self.image.resize(n, [0; 3]);
        self.original.clear();
        self.original.resize(n, 0);
        self.slot.clear();
        let mut next = self.bin_start.clone();
        for (i, &(w, n)) in self.moved.iter().enumerate() {
            let fill = &mut next[self.grid.flat(self.bin[i])];
            let p = *fill;
            *fill += 1;
            self.wrapped[p] = w;
            (self.xs[p], self.ys[p], self.zs[p]) = (w[0] as f32, w[1] as f32, w[2] as f32);
            self.image[p] = n;
            self.original[p] = i as u32;
            self.slot.push(p as u32);
        }
        self.largest_coordinate = self.wrapped.iter().flatten().fold(0.0, |m, v| m.max(v.abs()));
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
        self.fill_rows_with(cell, range2, kind, offsets, neighbors, shifts, has_avx2());
    }

    /// [`Self::fill_rows`] with the AVX2 kernel when `avx2` (which the CPU must then support, else the
    /// portable kernel runs) or the portable one.
    #[allow(clippy::too_many_arguments)]
    fn fill_rows_with(
        &self,
        cell: &Cell,
        range2: f64,
        kind: ListKind,
        offsets: &mut Vec<usize>,
        neighbors: &mut Vec<u32>,
        shifts: &mut Vec<[i32; 3]>,
        avx2: bool,
    ) {
        let own_images = self.grid.own_image_shifts(cell, range2, kind == ListKind::Half);
        offsets.clear();
        offsets.reserve(self.len() + 1);
        offsets.push(0);
        let mut rows = Rows::new(neighbors, shifts);
        let mut scanner = RowScanner::new(self, range2, kind);
        scanner.avx2 &= avx2;
        for i in 0..self.len() {
            let _ = scanner.row(i, &mut rows);
            rows.reserve(own_images.len());
            for &shift in &own_images {
                let _ = rows.push(Hit {
                    index: i as u32,
                    shift,
                    distance2: 0.0,
                });
            }
            offsets.push(rows.len);
            if i == 0 {
                rows.reserve(expected_entries(rows.len, self.len(), kind));
            }
        }
        rows.finish();
    }
}

/// Room for the whole list, guessed from the first row (which, in a half list, holds all of atom 0's
/// neighbours, so rows hold half as many on average) plus a quarter, at most [`MAX_GUESSED_ROW`] per atom: one
/// allocation of about the right size instead of repeated doubling (which in a fresh list costs page
/// faults). Only a guess; the rows grow further when needed.
fn expected_entries(first_row: usize, n_atoms: usize, kind: ListKind) -> usize {
    let per_atom = match kind {
        ListKind::Half => first_row.div_ceil(2),
        ListKind::Full => first_row,
    };
    // A quarter more, for atoms with more neighbours than atom 0.
    (per_atom + per_atom / 4 + 1)
        .min(MAX_GUESSED_ROW)
        .saturating_mul(n_atoms)
}

/// Largest number of entries per atom reserved from the guess of [`expected_entries`].
const MAX_GUESSED_ROW: usize = 64;

/// Where [`RowScanner::row`] puts the neighbours it finds.
pub(super) trait HitSink {
    /// Whether [`Hit::distance2`] must be the exact `f64` squared distance; when false, hits the `f32`
    /// screen proves within range skip the `f64` computation and carry NaN instead.
    const NEEDS_DISTANCE: bool = true;
    /// Make room for up to `additional` more hits.
    fn reserve(&mut self, _additional: usize) {}
    /// One neighbour; `Break` stops the traversal.
    fn push(&mut self, hit: Hit) -> ControlFlow<()>;
}

/// The rows of a list being filled: entries `..len` are written into the vectors' spare capacity (their
/// length stays at the last growth until [`Rows::finish`]), so that a hit is two stores, with no zeroing
/// of the list's memory beforehand.
struct Rows<'a> {
    neighbors: &'a mut Vec<u32>,
    shifts: &'a mut Vec<[i32; 3]>,
    /// Entries written.
    len: usize,
    /// Entries that fit without growing: the smaller capacity.
    room: usize,
    /// The vectors' buffers (valid for `room` entries until the next growth).
    neighbors_ptr: *mut u32,
    shifts_ptr: *mut [i32; 3],
}

impl<'a> Rows<'a> {
    fn new(neighbors: &'a mut Vec<u32>, shifts: &'a mut Vec<[i32; 3]>) -> Rows<'a> {
        neighbors.clear();
        shifts.clear();
        let room = neighbors.capacity().min(shifts.capacity());
        let (neighbors_ptr, shifts_ptr) = (neighbors.as_mut_ptr(), shifts.as_mut_ptr());
        Rows {
            neighbors,
            shifts,
            len: 0,
            room,
            neighbors_ptr,
            shifts_ptr,
        }
    }

    /// Room for `additional` entries more than written, at least doubling.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, additional: usize) {
        // SAFETY: entries ..len are written (and the capacity holds them).
        unsafe {
            self.neighbors.set_len(self.len);
            self.shifts.set_len(self.len);
        }
        let size = (self.len + additional).max(2 * self.len).max(1024);
        self.neighbors.reserve(size - self.len);
        self.shifts.reserve(size - self.len);
        self.room = self.neighbors.capacity().min(self.shifts.capacity());
        (self.neighbors_ptr, self.shifts_ptr) = (self.neighbors.as_mut_ptr(), self.shifts.as_mut_ptr());
    }

    /// Set the vectors' lengths to the entries written.
    fn finish(self) {
        // SAFETY: entries ..len are written (and the capacity holds them).
        unsafe {
            self.neighbors.set_len(self.len);
            self.shifts.set_len(self.len);
        }
    }
}

impl HitSink for Rows<'_> {
    const NEEDS_DISTANCE: bool = false;

    #[inline(always)]
    fn reserve(&mut self, additional: usize) {
        if self.len + additional > self.room {
            self.grow(additional);
        }
    }

    #[inline(always)]
    fn push(&mut self, hit: Hit) -> ControlFlow<()> {
        if self.len >= self.room {
            self.grow(1);
        }
        // SAFETY: len < room, within both vectors' capacity; the pointers are their current buffers.
        unsafe {
            self.neighbors_ptr.add(self.len).write(hit.index);
            self.shifts_ptr.add(self.len).write(hit.shift);
        }
        self.len += 1;
        ControlFlow::Continue(())
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
    /// Candidates whose `f32` squared distance exceeds this (Å²) are certainly out of range.
    range2_f32: f32,
    /// Candidates whose `f32` squared distance is at most this (Å²) are certainly within range.
    inside_f32: f32,
    kind: ListKind,
    /// Half lists: the first binned atom of each bin whose caller's index exceeds the current row's.
    /// and the bin's end: the candidates of each bin (for a full list, the whole bin), as `[first, end)` in
    /// the binned arrays, in one table so that a bin costs one lookup.
    cursor: Vec<[u32; 2]>,
    /// Whether the CPU runs the AVX2 kernel (8 lanes); otherwise the portable one (4 lanes).
    avx2: bool,
}

impl<'a> RowScanner<'a> {
    pub(super) fn new(binning: &'a Binning, range2: f64, kind: ListKind) -> RowScanner<'a> {
        // The layout `scan` relies on (its unchecked reads): every bin ends within the binned atoms, whose
        // arrays all have their length (the f32 coordinates a padding of LANES more).
        let n = binning.len();
        assert!(
            [binning.wrapped.len(), binning.image.len(), binning.original.len()] == [n; 3]
                && [binning.xs.len(), binning.ys.len(), binning.zs.len()] == [n + LANES; 3]
                && binning.bin_start.windows(2).all(|w| w[0] <= w[1])
                && binning.bin_start.last().is_none_or(|&last| last <= n),
            "a binning in bin order"
        );
        RowScanner {
            binning,
            range2,
            range2_f32: f32_threshold(range2, binning.largest_coordinate),
            inside_f32: f32_inside(range2, binning.largest_coordinate),
            kind,
            // Bin ends are at most n ≤ u32::MAX (checked by the list's build).
            cursor: binning
                .bin_start
                .windows(2)
                .map(|w| [w[0] as u32, w[1] as u32])
                .collect(),
            avx2: has_avx2(),
        }
    }

    /// Call `hit` for every neighbour of atom `i` within range other than the atom's own images: for a
    /// half list the atoms j > i (rows must then be visited in order i = 0, 1, 2, …), for a full list
    /// every atom j ≠ i; each at every image shift within range. Stops when `hit` breaks.
    #[inline]
    pub(super) fn row<S: HitSink>(&mut self, i: usize, sink: &mut S) -> ControlFlow<()> {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: the CPU supports AVX2 (checked at run time in `has_avx2`).
            return unsafe { self.row_avx2(i, sink) };
        }
        self.row_lanes::<Portable, S>(i, sink)
    }

    /// [`Self::row`] compiled for AVX2, with blocks of 8 candidates.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn row_avx2<S: HitSink>(&mut self, i: usize, sink: &mut S) -> ControlFlow<()> {
        self.row_lanes::<Avx2, S>(i, sink)
    }

    /// [`Self::row`] with blocks of `K::LANES` candidates. The stencil around the row's bin is walked axis by
    /// axis from the per-axis step tables (no list of bins is built), with the partial translations and
    /// shifts of the outer axes hoisted out of the inner loop.
    #[inline(always)]
    fn row_lanes<K: Kernel, S: HitSink>(&mut self, i: usize, sink: &mut S) -> ControlFlow<()> {
        let b = self.binning;
        let p = b.slot[i] as usize;
        let home = b.bin[i];
        let own_bin = b.grid.flat(home);
        if self.kind == ListKind::Half {
            debug_assert_eq!(
                self.cursor[own_bin][0] as usize, p,
                "half-list rows are visited in order"
            );
            self.cursor[own_bin][0] = p as u32 + 1;
        }
        let w = b.wrapped[p];
        let image = b.image[p];
        let stencil = &b.stencil;
        let steps_c = stencil.steps(2, home[2]);
        for sa in stencil.steps(0, home[0]) {
            for sb in stencil.steps(1, home[1]) {
                let flat_ab = sa.flat + sb.flat;
                // r = w_k + T − w_i = w_k − origin, T = S·M summed over the axes.
                let origin_ab = [0, 1, 2].map(|k| w[k] - (sa.translation[k] + sb.translation[k]));
                let base_ab = [image[0] + sa.shift, image[1] + sb.shift, image[2]];
                for sc in steps_c {
                    let bin = flat_ab + sc.flat;
                    let [first, end] = self.cursor[bin].map(|v| v as usize);
                    if first >= end {
                        continue;
                    }
                    let split = (self.kind == ListKind::Full && bin == own_bin).then_some(p);
                    let origin = [0, 1, 2].map(|k| origin_ab[k] - sc.translation[k]);
                    let base = [base_ab[0], base_ab[1], base_ab[2] + sc.shift];
                    match split {
                        None => self.scan::<K, S>(origin, base, first, end, sink)?,
                        Some(own) => {
                            self.scan::<K, S>(origin, base, first, own, sink)?;
                            self.scan::<K, S>(origin, base, own + 1, end, sink)?;
                        }
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Call `hit` for every binned atom k in `first..end` with |w_k − origin|² ≤ range², with shift
    /// `base` − n_k, testing `K::LANES` candidates at a time.
    #[inline(always)]
    fn scan<K: Kernel, S: HitSink>(
        &self,
        origin: Vec3,
        base: [i32; 3],
        first: usize,
        end: usize,
        sink: &mut S,
    ) -> ControlFlow<()> {
        let b = self.binning;
        let (xs, ys, zs) = (&b.xs[..], &b.ys[..], &b.zs[..]);
        let (wrapped, image, original) = (&b.wrapped[..], &b.image[..], &b.original[..]);
        // `end` is a bin's end, so at most the number of binned atoms (checked in `new`); a block from
        // k < end reads up to k + LANES − 1 < n + LANES, within the padded coordinates.
        // LANES ≤ 32 keeps a block's bits in the u32 masks.
        const { assert!(K::LANES <= LANES && LANES <= 32) };
        debug_assert!(end <= wrapped.len());
        let o = origin.map(|v| v as f32);
        let mut k = first;
        while k < end {
            // SAFETY: `K::mask`'s CPU features were checked by the caller (see `row`), and the block from
            // k < end lies within the coordinates (see above).
            let (mut mask, inside) = unsafe { K::mask(xs, ys, zs, k, o, self.range2_f32, self.inside_f32) };
            let valid = (end - k).min(K::LANES);
            mask &= (1u32 << valid) - 1;
            while mask != 0 {
                let lane = mask.trailing_zeros();
                let at = k + lane as usize;
                mask &= mask - 1;
                if !S::NEEDS_DISTANCE && inside & (1 << lane) != 0 {
                    // SAFETY: as below.
                    let (n, index) = unsafe { (*image.get_unchecked(at), *original.get_unchecked(at)) };
                    sink.push(Hit {
                        index,
                        shift: [base[0] - n[0], base[1] - n[1], base[2] - n[2]],
                        distance2: f64::NAN,
                    })?;
                    continue;
                }
                // SAFETY: bit l of the mask is set only for l < valid, so at < end ≤ the slices' length.
                let (w, n, index) = unsafe {
                    (
                        *wrapped.get_unchecked(at),
                        *image.get_unchecked(at),
                        *original.get_unchecked(at),
                    )
                };
                let (dx, dy, dz) = (w[0] - origin[0], w[1] - origin[1], w[2] - origin[2]);
                let distance2 = dx * dx + dy * dy + dz * dz;
                if distance2 <= self.range2 {
                    sink.push(Hit {
                        index,
                        shift: [base[0] - n[0], base[1] - n[1], base[2] - n[2]],
                        distance2,
                    })?;
                }
            }
            k += K::LANES;
        }
        ControlFlow::Continue(())
    }
}

/// The `f32` screen of one block of candidates.
trait Kernel {
    /// Candidates per block.
    const LANES: usize;
    /// Bit l set when binned atom `k + l` may lie within range of `origin`: its `f32` squared distance
    /// is not greater than `threshold` (NaN included). Lanes past the binned atoms read the padding.
    ///
    /// # Safety
    /// The CPU must support the kernel's features, and `k + LANES` must not exceed the length of `x`, `y`
    /// or `z`.
    /// Also returns the bits of the lanes whose squared distance is at most `inside` (not NaN).
    unsafe fn mask(
        x: &[f32],
        y: &[f32],
        z: &[f32],
        k: usize,
        origin: [f32; 3],
        threshold: f32,
        inside: f32,
    ) -> (u32, u32);
}

/// The portable kernel: 4 lanes, which the compiler keeps in one SSE register.
struct Portable;

impl Kernel for Portable {
    const LANES: usize = 4;

    #[inline(always)]
    unsafe fn mask(x: &[f32], y: &[f32], z: &[f32], k: usize, o: [f32; 3], threshold: f32, inside: f32) -> (u32, u32) {
        let block = |v: &[f32]| -> [f32; 4] { v[k..k + 4].try_into().expect("a block of 4") };
        let (x, y, z) = (block(x), block(y), block(z));
        let (mut mask, mut sure) = (0u32, 0u32);
        for l in 0..4 {
            let (dx, dy, dz) = (x[l] - o[0], y[l] - o[1], z[l] - o[2]);
            let d2 = dx * dx + dy * dy + dz * dz;
            // Not greater: within the threshold, or NaN (a coordinate beyond f32), kept for the f64 test.
            mask |= u32::from(d2 <= threshold || d2.is_nan()) << l;
            sure |= u32::from(d2 <= inside) << l;
        }
        (mask, sure)
    }
}

/// The AVX2 kernel: 8 lanes in one AVX register, by intrinsics.
#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Kernel for Avx2 {
    const LANES: usize = 8;

    #[inline(always)]
    unsafe fn mask(x: &[f32], y: &[f32], z: &[f32], k: usize, o: [f32; 3], threshold: f32, inside: f32) -> (u32, u32) {
        // SAFETY: the CPU supports AVX2 and the 8 values from k exist (the caller's contract).
        unsafe {
            avx2_mask(
                x.as_ptr().add(k),
                y.as_ptr().add(k),
                z.as_ptr().add(k),
                o,
                threshold,
                inside,
            )
        }
    }
}

/// The mask of [`Kernel::mask`] for the 8 values at `x`, `y`, `z`: (x−o_x)² + (y−o_y)² + (z−o_z)²,
/// each operation rounded (no fused multiply-add, so the bound of [`f32_threshold`] holds), compared
/// "not greater than" (true for NaN).
///
/// # Safety
/// AVX2, and 8 readable `f32` at each pointer.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn avx2_mask(
    x: *const f32,
    y: *const f32,
    z: *const f32,
    o: [f32; 3],
    threshold: f32,
    inside: f32,
) -> (u32, u32) {
    use std::arch::x86_64::*;
    // SAFETY: the caller's contract.
    unsafe {
        let dx = _mm256_sub_ps(_mm256_loadu_ps(x), _mm256_set1_ps(o[0]));
        let dy = _mm256_sub_ps(_mm256_loadu_ps(y), _mm256_set1_ps(o[1]));
        let dz = _mm256_sub_ps(_mm256_loadu_ps(z), _mm256_set1_ps(o[2]));
        let d2 = _mm256_add_ps(
            _mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy)),
            _mm256_mul_ps(dz, dz),
        );
        let keep = _mm256_cmp_ps::<_CMP_NGT_UQ>(d2, _mm256_set1_ps(threshold));
        let sure = _mm256_cmp_ps::<_CMP_LE_OQ>(d2, _mm256_set1_ps(inside));
        (_mm256_movemask_ps(keep) as u32, _mm256_movemask_ps(sure) as u32)
    }
}

/// Whether the AVX2 kernel can run here (checked once per build).
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The threshold of the `f32` test: range² (Å²) plus a bound on the rounding error of an `f32` squared
/// distance between a candidate and a row's origin when every wrapped coordinate is at most `largest`
/// (Å) in magnitude. Any pair within range then passes; infinite when `f32` cannot help.
///
/// A pair within range has |d| ≤ r, and the translation between the two atoms is then at most
/// r + 2W per component (W = `largest`), so the origin w_i − T is at most 3W + r. Rounding the candidate,
/// the origin and their difference to `f32` errs by e ≤ (4W + 2r)·u per component (u = 2⁻²⁴); squaring
/// and summing adds at most 2·√3·r·e + 3e² + 4·r²·u. The bound used doubles e and rounds every constant
/// up.
fn f32_threshold(range2: f64, largest: f64) -> f32 {
    let threshold = range2 + f32_error(range2, largest);
    // Rounding up to f32 (below f32::MAX) keeps it an upper bound.
    let rounded = threshold as f32;
    let up = if f64::from(rounded) < threshold {
        rounded.next_up()
    } else {
        rounded
    };
    if up.is_finite() && threshold < 1e30 {
        up
    } else {
        f32::INFINITY
    }
}

/// The bound of [`f32_threshold`] on the rounding error of an `f32` squared distance (Å²) near range².
fn f32_error(range2: f64, largest: f64) -> f64 {
    const UNIT_ROUNDOFF: f64 = 1.0 / (1u64 << 24) as f64;
    let r = range2.sqrt();
    let e = 2.0 * (4.0 * largest + 2.0 * r) * UNIT_ROUNDOFF;
    4.0 * r * e + 4.0 * e * e + 8.0 * range2 * UNIT_ROUNDOFF
}

/// The `f32` squared distance (Å²) at or below which a candidate is certainly within range: range² less
/// twice the error bound E of [`f32_threshold`], rounded down (negative, so never met, when `f32` cannot
/// help).
///
/// A candidate whose `f32` value is at most range² − 2E has |d| ≲ r, so the candidate's and the
/// origin's coordinates obey the bounds of [`f32_threshold`] (|origin| ≤ W + |d|) and its exact squared
/// distance is at most range² − E (the bound grows like |d|, so it holds with the factor 2 to spare for
/// |d| just beyond r); the `f64` squared distance, whose own rounding is far below E, is then within
/// range too.
fn f32_inside(range2: f64, largest: f64) -> f32 {
    let inside = range2 - 2.0 * f32_error(range2, largest);
    let rounded = inside as f32;
    let down = if f64::from(rounded) > inside {
        rounded.next_down()
    } else {
        rounded
    };
    if inside.is_finite() && inside > 0.0 && range2 < 1e30 && down.is_finite() {
        down
    } else {
        -1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// The portable kernel's rows equal the AVX2 kernel's (where the CPU has AVX2; the brute-force tests
    /// check whichever kernel the CPU runs), entry for entry, in skewed cells with open and periodic
    /// directions, atoms inside and outside the cell, both kinds of list.
    #[test]
    fn portable_and_avx2_kernels_give_the_same_rows() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        for trial in 0..60 {
            let pbc = [trial % 2 == 0, trial % 3 != 0, trial % 5 != 0];
            let mut matrix = [[0.0; 3]; 3];
            for (k, row) in matrix.iter_mut().enumerate() {
                for (l, v) in row.iter_mut().enumerate() {
                    *v = if k == l {
                        rng.random_range(4.0..14.0)
                    } else {
                        rng.random_range(-2.0..2.0)
                    };
                }
            }
            let cell = Cell::new(matrix, pbc).expect("a valid cell");
            let n = rng.random_range(1..400);
            let positions: Vec<Vec3> = (0..n)
                .map(|_| cell.to_cartesian(std::array::from_fn(|_| rng.random_range(-0.2..1.2))))
                .collect();
            let range: f64 = rng.random_range(1.0..6.0);
            let mut binning = Binning::default();
            binning.fill(&cell, &positions, range).expect("a valid binning");
            for kind in [ListKind::Half, ListKind::Full] {
                let rows = |avx2: bool| {
                    let (mut offsets, mut neighbors, mut shifts) = (Vec::new(), Vec::new(), Vec::new());
                    binning.fill_rows_with(
                        &cell,
                        range * range,
                        kind,
                        &mut offsets,
                        &mut neighbors,
                        &mut shifts,
                        avx2,
                    );
                    (offsets, neighbors, shifts)
                };
                let portable = rows(false);
                if has_avx2() {
                    assert_eq!(portable, rows(true), "trial {trial} {kind:?}");
                }
            }
        }
    }
}
