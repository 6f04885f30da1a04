//! Atoms sorted into the bins of a [`Grid`] and the traversal that finds the neighbours of one atom at a
//! time, so that rows come out in the caller's atom order and go straight into the compressed rows.
//!
//! Layout: the binned atoms are stored in bin order (c fastest), and within a bin in increasing caller's
//! index (a stable counting sort), as structure-of-arrays `f32` coordinates and caller's indices padded
//! for whole blocks. Rows are visited in the caller's order i = 0, 1, 2, …; for a half list each bin
//! keeps a cursor at its first atom with caller's index > i (the bins' candidates j > i start there), so
//! each pair is tested once, from its lower index, and no sort of pairs into rows is needed.
//!
//! Stretches: since bins are stored c fastest, the bins of one column of the stencil (fixed offsets
//! along a and b, consecutive along c) are one contiguous stretch of the binned atoms (two where the
//! column wraps around a periodic edge along c). A row scans about 9 stretches instead of 27 bins: each
//! starts at the cursor of its first bin with candidates left and ends at its last bin's end. The
//! stretches around a bin are collected once and kept for later rows in the same bin (the last two bins
//! are kept: consecutive atoms of a crystal often alternate between two bins); cursors only advance, so
//! kept stretches still hold every candidate. Atoms of a stretch that are not candidates (caller's index
//! ≤ i for a half list, the atom itself for a full list) are dropped by the screen.
//!
//! Screen: the candidates of a stretch are tested in blocks without branches, in `f32`: 16 lanes by
//! AVX-512F intrinsics, else 8 by AVX2 (the widest the CPU has, detected at run time), else 4 lanes of
//! portable code that the compiler keeps in one SSE register; all give the same rows. The last block of
//! a stretch may read past its end into the next bin or the padding, and those lanes are masked off. The
//! `f32` test only discards candidates certainly out of range (beyond range² plus a bound E on the
//! rounding error); a candidate at most range² − 2E in `f32` is certainly within range; any other
//! candidate kept is decided by the exact `f64` distance. So the list is what an `f64` test of every pair
//! gives. When every hit of a block is certain, the block's caller's indices are written at once
//! (compressed by one instruction with AVX-512F) with their shifts; rows are written into the vectors'
//! spare capacity (no zero-filling of the list).

use super::grid::{Grid, Stencil, wrap_into_cell};
use super::{ListKind, check_positions};
use crate::cell::Cell;
use crate::linalg::Vec3;
use crate::{Error, Result};
use std::ops::ControlFlow;

/// Padding of the `f32` coordinates and caller's indices: the most candidates a kernel tests together in
/// [`RowScanner::scan`].
const LANES: usize = 16;

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
    /// Whether some atom lies outside the cell (has a non-zero image offset).
    has_images: bool,
    /// Image offset n of each binned atom (x = w + n·M).
    image: Vec<[i32; 3]>,
    /// Caller's index of each binned atom, padded by [`LANES`] entries.
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
        let (mut largest, mut has_images) = (0.0f64, false);
        for (i, &x) in positions.iter().enumerate() {
            let (s, w, n) = wrap_into_cell(cell, x)
                .ok_or_else(|| Error::Invalid(format!("atom {i} at {x:?} lies too many cells away from the cell")))?;
            self.fractional.push(s);
            self.moved.push((w, n));
            // Finite here (checked above), so plain comparisons.
            for v in w {
                largest = if v.abs() > largest { v.abs() } else { largest };
            }
            has_images |= n != [0; 3];
        }
        (self.largest_coordinate, self.has_images) = (largest, has_images);
        self.grid = Grid::new(cell, &self.fractional, range)?;
        self.stencil = self.grid.stencil(cell);
        self.count_bins();
        self.store_in_bin_order();
        Ok(())
    }

    /// The bin of each atom, and `bin_start`: prefix sums of bin occupancy.
    fn count_bins(&mut self) {
        let n_bins = self.grid.n_bins();
        self.bin_start.clear();
        self.bin_start.resize(n_bins + 1, 0);
        self.bin.clear();
        for &s in &self.fractional {
            let b = self.grid.bin_of(s);
            self.bin.push(b);
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
        self.original.resize(n + LANES, 0);
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
        self.fill_rows_with(cell, range2, kind, offsets, neighbors, shifts, Kernels::detected());
    }

    /// [`Self::fill_rows`] with the given kernels (at most those the CPU supports: see
    /// [`Kernels::at_most`]).
    #[allow(clippy::too_many_arguments)]
    fn fill_rows_with(
        &self,
        cell: &Cell,
        range2: f64,
        kind: ListKind,
        offsets: &mut Vec<usize>,
        neighbors: &mut Vec<u32>,
        shifts: &mut Vec<[i32; 3]>,
        kernels: Kernels,
    ) {
        let own_images = self.grid.own_image_shifts(cell, range2, kind == ListKind::Half);
        offsets.clear();
        offsets.reserve(self.len() + 1);
        offsets.push(0);
        let mut rows = Rows::new(std::mem::take(neighbors), std::mem::take(shifts));
        let mut scanner = RowScanner::new(self, range2, kind);
        scanner.kernels = scanner.kernels.at_most(kernels);
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
        (*neighbors, *shifts) = rows.finish();
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
    /// The rows of a list when the sink fills one: then hits the `f32` screen proves within range go
    /// straight into them, a block at a time, without their `f64` distances. `None`: every hit is
    /// [`Self::push`]ed with its exact squared distance.
    fn rows(&mut self) -> Option<&mut Rows> {
        None
    }
    /// One neighbour; `Break` stops the traversal.
    fn push(&mut self, hit: Hit) -> ControlFlow<()>;
}

/// The rows of a list being filled: entries `..len` are written into the vectors' spare capacity (their
/// length stays at the last growth until [`Rows::finish`]), so that a hit is two stores, with no zeroing
/// of the list's memory beforehand.
pub(super) struct Rows {
    neighbors: Vec<u32>,
    shifts: Vec<[i32; 3]>,
    /// Entries written.
    len: usize,
    /// Entries that fit without growing: the smaller capacity.
    room: usize,
    /// The vectors' buffers (valid for `room` entries until the next growth).
    neighbors_ptr: *mut u32,
    shifts_ptr: *mut [i32; 3],
}

impl Rows {
    /// Empty rows in the memory of `neighbors` and `shifts` (their contents dropped).
    fn new(mut neighbors: Vec<u32>, mut shifts: Vec<[i32; 3]>) -> Rows {
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
        advise_huge_pages(&mut self.neighbors);
        advise_huge_pages(&mut self.shifts);
        self.room = self.neighbors.capacity().min(self.shifts.capacity());
        (self.neighbors_ptr, self.shifts_ptr) = (self.neighbors.as_mut_ptr(), self.shifts.as_mut_ptr());
    }

    /// Make room for up to `additional` more entries.
    #[inline(always)]
    fn reserve(&mut self, additional: usize) {
        if self.len + additional > self.room {
            self.grow(additional);
        }
    }

    /// The neighbour indices and shifts with their lengths set to the entries written.
    fn finish(mut self) -> (Vec<u32>, Vec<[i32; 3]>) {
        // SAFETY: entries ..len are written (and the capacity holds them).
        unsafe {
            self.neighbors.set_len(self.len);
            self.shifts.set_len(self.len);
        }
        (self.neighbors, self.shifts)
    }
}

impl HitSink for Rows {
    #[inline(always)]
    fn rows(&mut self) -> Option<&mut Rows> {
        Some(self)
    }

    #[inline(always)]
    fn push(&mut self, hit: Hit) -> ControlFlow<()> {
        self.reserve(1);
        // SAFETY: len < room, within both vectors' capacity; the pointers are their current buffers.
        unsafe {
            self.neighbors_ptr.add(self.len).write(hit.index);
            self.shifts_ptr.add(self.len).write(hit.shift);
        }
        self.len += 1;
        ControlFlow::Continue(())
    }
}

/// Ask the kernel to back the spare capacity of `buffer` with transparent huge pages (2 MiB) where it
/// can: the tens of MB of a fresh list are then faulted in a few dozen pages instead of thousands of
/// 4 KiB ones, whose faults (the kernel zeroing each page) cost a fresh build of 100k atoms about as
/// much as the traversal. Advice only, which changes no contents; buffers under 2 MiB are left alone.
fn advise_huge_pages<T>(buffer: &mut Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE: usize = 2 << 20;
        let spare = buffer.spare_capacity_mut();
        let start = spare.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(spare);
        // The advice needs a page-aligned start; a huge-page boundary is one.
        let aligned = start.next_multiple_of(HUGE_PAGE);
        if end >= aligned + HUGE_PAGE {
            // SAFETY: the range lies within the vector's allocation; MADV_HUGEPAGE alters no data and its
            // failure (e.g. a kernel without transparent huge pages) is harmless, so its result is ignored.
            unsafe {
                libc::madvise(aligned as *mut libc::c_void, end - aligned, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
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
    /// The stretches of binned atoms to scan around the bins of the last rows (the two last bins seen:
    /// consecutive atoms often alternate between two bins), kept for the next rows in those bins; the
    /// first entry is the most recent.
    stretches: [(usize, Vec<Stretch>); 2],
    /// The widest kernels the CPU runs.
    kernels: Kernels,
}

/// Binned atoms `first..end` of consecutive bins of one column of the stencil, reached across the
/// image shift `shift` (relative to the wrapped positions) whose translation is `translation` (Å).
#[derive(Clone, Copy, Debug)]
struct Stretch {
    first: u32,
    end: u32,
    shift: [i32; 3],
    translation: Vec3,
}

impl<'a> RowScanner<'a> {
    pub(super) fn new(binning: &'a Binning, range2: f64, kind: ListKind) -> RowScanner<'a> {
        // The layout `scan` relies on (its unchecked reads): every bin ends within the binned atoms, whose
        // arrays all have their length (the f32 coordinates a padding of LANES more).
        let n = binning.len();
        assert!(
            [binning.wrapped.len(), binning.image.len()] == [n; 2]
                && [
                    binning.xs.len(),
                    binning.ys.len(),
                    binning.zs.len(),
                    binning.original.len()
                ] == [n + LANES; 4]
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
            // No bin has index usize::MAX (bins are counted in memory).
            stretches: [(usize::MAX, Vec::new()), (usize::MAX, Vec::new())],
            kernels: Kernels::detected(),
        }
    }

    /// Call `hit` for every neighbour of atom `i` within range other than the atom's own images: for a
    /// half list the atoms j > i (rows must then be visited in order i = 0, 1, 2, …), for a full list
    /// every atom j ≠ i; each at every image shift within range. Stops when `hit` breaks.
    #[inline]
    pub(super) fn row<S: HitSink>(&mut self, i: usize, sink: &mut S) -> ControlFlow<()> {
        let half = self.kind == ListKind::Half;
        match self.kernels {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU supports AVX-512F and POPCNT (checked at run time in `Kernels::detected`).
            Kernels::Avx512 => unsafe {
                if half {
                    self.row_avx512::<true, S>(i, sink)
                } else {
                    self.row_avx512::<false, S>(i, sink)
                }
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU supports AVX2 and POPCNT (checked at run time in `Kernels::detected`).
            Kernels::Avx2 => unsafe {
                if half {
                    self.row_avx2::<true, S>(i, sink)
                } else {
                    self.row_avx2::<false, S>(i, sink)
                }
            },
            _ if half => self.row_lanes::<Portable, true, S>(i, sink),
            _ => self.row_lanes::<Portable, false, S>(i, sink),
        }
    }

    /// [`Self::row`] compiled for AVX-512F, with blocks of 16 candidates.
    ///
    /// # Safety
    /// The CPU must support AVX-512F and POPCNT.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,popcnt")]
    unsafe fn row_avx512<const HALF: bool, S: HitSink>(&mut self, i: usize, sink: &mut S) -> ControlFlow<()> {
        self.row_lanes::<Avx512, HALF, S>(i, sink)
    }

    /// [`Self::row`] compiled for AVX2, with blocks of 8 candidates.
    ///
    /// # Safety
    /// The CPU must support AVX2 and POPCNT.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,popcnt")]
    unsafe fn row_avx2<const HALF: bool, S: HitSink>(&mut self, i: usize, sink: &mut S) -> ControlFlow<()> {
        self.row_lanes::<Avx2, HALF, S>(i, sink)
    }

    /// [`Self::row`] with blocks of `K::LANES` candidates, for a half list when `HALF`: the stretches
    /// around the row's bin (collected when the bin differs from the last row's), each scanned in one go.
    #[inline(always)]
    fn row_lanes<K: Kernel, const HALF: bool, S: HitSink>(&mut self, i: usize, sink: &mut S) -> ControlFlow<()> {
        let b = self.binning;
        let p = b.slot[i] as usize;
        let home = b.bin[i];
        let own_bin = b.grid.flat(home);
        if HALF {
            debug_assert_eq!(
                self.cursor[own_bin][0] as usize, p,
                "half-list rows are visited in order"
            );
            self.cursor[own_bin][0] = p as u32 + 1;
        }
        if own_bin != self.stretches[0].0 {
            self.stretches.swap(0, 1);
            if own_bin != self.stretches[0].0 {
                self.collect_stretches(home);
                self.stretches[0].0 = own_bin;
            }
        }
        let w = b.wrapped[p];
        let image = b.image[p];
        let row = i as u32;
        for stretch in &self.stretches[0].1 {
            // r = w_k + T − w_i = w_k − origin.
            let t = stretch.translation;
            let origin = [w[0] - t[0], w[1] - t[1], w[2] - t[2]];
            let s = stretch.shift;
            let base = [image[0] + s[0], image[1] + s[1], image[2] + s[2]];
            self.scan::<K, HALF, S>(origin, base, stretch.first as usize, stretch.end as usize, row, sink)?;
        }
        ControlFlow::Continue(())
    }

    /// The stretches around bin `home` with candidates left, into the first entry of the kept
    /// stretches: the stencil walked as columns, the steps
    /// along a and b from the per-axis tables and along c the runs of consecutive bins. With the cursors
    /// of the current row, they stay valid (if a little long) for later rows in the same bin, as cursors
    /// only advance and the scan's filter drops atoms before them.
    fn collect_stretches(&mut self, home: [u32; 3]) {
        let mut stretches = std::mem::take(&mut self.stretches[0].1);
        stretches.clear();
        let stencil = &self.binning.stencil;
        let runs = stencil.runs(home[2]);
        for sa in stencil.steps(0, home[0]) {
            for sb in stencil.steps(1, home[1]) {
                let flat_ab = sa.flat + sb.flat;
                for run in runs {
                    let (first, end) = self.candidates(flat_ab + run.first, flat_ab + run.last);
                    if first < end {
                        stretches.push(Stretch {
                            first: first as u32,
                            end: end as u32,
                            shift: [sa.shift, sb.shift, run.shift],
                            translation: [0, 1, 2].map(|k| sa.translation[k] + sb.translation[k] + run.translation[k]),
                        });
                    }
                }
            }
        }
        self.stretches[0].1 = stretches;
    }

    /// The stretch `[first, end)` of the binned atoms to scan for the bins `first_bin..=last_bin`
    /// (consecutive in bin order): from the cursor of the first bin with candidates left to the end of
    /// the last bin. Later bins may hold atoms before their cursors, which the scan's filter drops.
    #[inline(always)]
    fn candidates(&self, first_bin: usize, last_bin: usize) -> (usize, usize) {
        let end = self.cursor[last_bin][1] as usize;
        for &[first, bin_end] in &self.cursor[first_bin..=last_bin] {
            if first < bin_end {
                return (first as usize, end);
            }
        }
        (end, end)
    }

    /// Call `hit` for every binned atom k in `first..end` with |w_k − origin|² ≤ range² and caller's
    /// index above `row` (`HALF`) or other than `row`, with shift `base` − n_k, testing `K::LANES`
    /// candidates at a time.
    #[inline(always)]
    fn scan<K: Kernel, const HALF: bool, S: HitSink>(
        &self,
        origin: Vec3,
        base: [i32; 3],
        first: usize,
        end: usize,
        row: u32,
        sink: &mut S,
    ) -> ControlFlow<()> {
        let b = self.binning;
        let (xs, ys, zs) = (&b.xs[..], &b.ys[..], &b.zs[..]);
        let (wrapped, original) = (&b.wrapped[..], &b.original[..]);
        // `end` is a bin's end, so at most the number of binned atoms (checked in `new`); a block from
        // k < end reads up to k + LANES − 1 < n + LANES, within the padded coordinates and indices.
        // LANES ≤ 32 keeps a block's bits in the u32 masks.
        const { assert!(K::LANES <= LANES && LANES <= 32) };
        debug_assert!(end <= wrapped.len());
        let o = origin.map(|v| v as f32);
        let screen = |k: usize| {
            // SAFETY: `K::mask`'s CPU features were checked by the caller (see `row`), and the block from
            // k < end lies within the coordinates and indices (see above).
            unsafe { K::mask::<HALF>(xs, ys, zs, original, k, o, row, self.range2_f32, self.inside_f32) }
        };
        // Whole blocks, then the last, partial one with the lanes past `end` masked off.
        let whole = first + (end - first) / K::LANES * K::LANES;
        let mut k = first;
        while k < whole {
            let (mask, inside) = screen(k);
            if mask != 0 {
                self.hits::<K, S>(k, mask, inside, origin, base, sink)?;
            }
            k += K::LANES;
        }
        if k < end {
            let (mask, inside) = screen(k);
            let mask = mask & ((1u32 << (end - k)) - 1);
            if mask != 0 {
                self.hits::<K, S>(k, mask, inside, origin, base, sink)?;
            }
        }
        ControlFlow::Continue(())
    }

    /// The hits of the block of binned atoms from `k` that the `f32` screen kept (bits of `mask`, those
    /// of `inside` proven within range), with shift `base` − n_k: proven hits of a whole block go
    /// straight into the sink's rows; others are decided by the exact `f64` distance to `origin`.
    #[inline(always)]
    fn hits<K: Kernel, S: HitSink>(
        &self,
        k: usize,
        mut mask: u32,
        inside: u32,
        origin: Vec3,
        base: [i32; 3],
        sink: &mut S,
    ) -> ControlFlow<()> {
        let b = self.binning;
        let (wrapped, image, original) = (&b.wrapped[..], &b.image[..], &b.original[..]);
        if let Some(rows) = sink.rows()
            && mask & !inside == 0
        {
            // Every hit of the block is proven within range: indices and shifts straight into the rows.
            rows.reserve(LANES + 1);
            let count = mask.count_ones() as usize;
            // SAFETY: room for LANES + 1 > count entries from `len`; the set bits are lanes of binned atoms
            // (the scan masks lanes at and past the end off).
            unsafe {
                K::compress(original, k, mask, rows.neighbors_ptr.add(rows.len));
                let out = rows.shifts_ptr.add(rows.len);
                if b.has_images {
                    let mut bits = mask;
                    for e in 0..count {
                        let n = *image.get_unchecked(k + bits.trailing_zeros() as usize);
                        out.add(e).write([base[0] - n[0], base[1] - n[1], base[2] - n[2]]);
                        bits &= bits - 1;
                    }
                } else {
                    // One 16-byte store per entry, its last 4 bytes overwritten by the next entry (or
                    // left in the spare room, reserved one entry wider than a block).
                    let wide = [base[0], base[1], base[2], base[2]];
                    for e in 0..count {
                        out.add(e).cast::<[i32; 4]>().write_unaligned(wide);
                    }
                }
            }
            rows.len += count;
            return ControlFlow::Continue(());
        }
        while mask != 0 {
            let at = k + mask.trailing_zeros() as usize;
            mask &= mask - 1;
            // SAFETY: the set bits are lanes of binned atoms (see above), so at < their number.
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
        ControlFlow::Continue(())
    }
}

/// The `f32` screen of one block of candidates.
trait Kernel {
    /// Candidates per block.
    const LANES: usize;
    /// Bit l set when binned atom `k + l` may lie within range of `origin`: its `f32` squared distance
    /// is not greater than `threshold` (NaN included), and its caller's index in `original` is above
    /// `row` (`HALF`) or other than `row`. Also returns the bits of the lanes whose squared distance is
    /// at most `inside` (not NaN). Lanes past the binned atoms read the padding.
    ///
    /// # Safety
    /// The CPU must support the kernel's features, and `k + LANES` must not exceed the length of `x`, `y`,
    /// `z` or `original`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn mask<const HALF: bool>(
        x: &[f32],
        y: &[f32],
        z: &[f32],
        original: &[u32],
        k: usize,
        origin: [f32; 3],
        row: u32,
        threshold: f32,
        inside: f32,
    ) -> (u32, u32);

    /// Write the caller's indices `original[k + l]` of the lanes l set in `mask`, in order, to `out`.
    ///
    /// # Safety
    /// As [`Self::mask`], and `out` must have room for `LANES` indices.
    #[inline(always)]
    unsafe fn compress(original: &[u32], k: usize, mask: u32, out: *mut u32) {
        let mut bits = mask;
        let mut e = 0;
        while bits != 0 {
            // SAFETY: the caller's contract (lanes below LANES, room for LANES).
            unsafe {
                out.add(e)
                    .write(*original.get_unchecked(k + bits.trailing_zeros() as usize))
            };
            e += 1;
            bits &= bits - 1;
        }
    }
}

/// The portable kernel: 4 lanes, which the compiler keeps in one SSE register.
struct Portable;

impl Kernel for Portable {
    const LANES: usize = 4;

    #[inline(always)]
    unsafe fn mask<const HALF: bool>(
        x: &[f32],
        y: &[f32],
        z: &[f32],
        original: &[u32],
        k: usize,
        o: [f32; 3],
        row: u32,
        threshold: f32,
        inside: f32,
    ) -> (u32, u32) {
        let block = |v: &[f32]| -> [f32; 4] { v[k..k + 4].try_into().expect("a block of 4") };
        let (x, y, z) = (block(x), block(y), block(z));
        let index: [u32; 4] = original[k..k + 4].try_into().expect("a block of 4");
        let (mut mask, mut sure) = (0u32, 0u32);
        for l in 0..4 {
            let (dx, dy, dz) = (x[l] - o[0], y[l] - o[1], z[l] - o[2]);
            let d2 = dx * dx + dy * dy + dz * dz;
            let wanted = if HALF { index[l] > row } else { index[l] != row };
            // Not greater: within the threshold, or NaN (a coordinate beyond f32), kept for the f64 test.
            mask |= u32::from(wanted && (d2 <= threshold || d2.is_nan())) << l;
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
    unsafe fn mask<const HALF: bool>(
        x: &[f32],
        y: &[f32],
        z: &[f32],
        original: &[u32],
        k: usize,
        o: [f32; 3],
        row: u32,
        threshold: f32,
        inside: f32,
    ) -> (u32, u32) {
        // SAFETY: the CPU supports AVX2 and the 8 values from k exist (the caller's contract).
        unsafe {
            avx2_mask::<HALF>(
                x.as_ptr().add(k),
                y.as_ptr().add(k),
                z.as_ptr().add(k),
                original.as_ptr().add(k),
                o,
                row,
                threshold,
                inside,
            )
        }
    }
}

/// The mask of [`Kernel::mask`] for the 8 values at `x`, `y`, `z`, `original`: (x−o_x)² + (y−o_y)² +
/// (z−o_z)², each operation rounded (no fused multiply-add, so the bound of [`f32_threshold`] holds),
/// compared "not greater than" (true for NaN); the indices compared as unsigned numbers (by flipping
/// their sign bits for the signed comparison of AVX2).
///
/// # Safety
/// AVX2, and 8 readable values at each pointer.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn avx2_mask<const HALF: bool>(
    x: *const f32,
    y: *const f32,
    z: *const f32,
    original: *const u32,
    o: [f32; 3],
    row: u32,
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
        let near = _mm256_cmp_ps::<_CMP_NGT_UQ>(d2, _mm256_set1_ps(threshold));
        let index = _mm256_loadu_si256(original.cast());
        let keep = if HALF {
            const SIGN: i32 = i32::MIN;
            let above = _mm256_cmpgt_epi32(
                _mm256_xor_si256(index, _mm256_set1_epi32(SIGN)),
                _mm256_set1_epi32((row as i32) ^ SIGN),
            );
            _mm256_and_ps(near, _mm256_castsi256_ps(above))
        } else {
            let same = _mm256_cmpeq_epi32(index, _mm256_set1_epi32(row as i32));
            _mm256_andnot_ps(_mm256_castsi256_ps(same), near)
        };
        let sure = _mm256_cmp_ps::<_CMP_LE_OQ>(d2, _mm256_set1_ps(inside));
        (_mm256_movemask_ps(keep) as u32, _mm256_movemask_ps(sure) as u32)
    }
}

/// The AVX-512F kernel: 16 lanes in one register, by intrinsics, with the indices of the hits
/// compressed by one instruction.
#[cfg(target_arch = "x86_64")]
struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Kernel for Avx512 {
    const LANES: usize = 16;

    #[inline(always)]
    unsafe fn mask<const HALF: bool>(
        x: &[f32],
        y: &[f32],
        z: &[f32],
        original: &[u32],
        k: usize,
        o: [f32; 3],
        row: u32,
        threshold: f32,
        inside: f32,
    ) -> (u32, u32) {
        // SAFETY: the CPU supports AVX-512F and the 16 values from k exist (the caller's contract).
        unsafe {
            avx512_mask::<HALF>(
                x.as_ptr().add(k),
                y.as_ptr().add(k),
                z.as_ptr().add(k),
                original.as_ptr().add(k),
                o,
                row,
                threshold,
                inside,
            )
        }
    }

    #[inline(always)]
    unsafe fn compress(original: &[u32], k: usize, mask: u32, out: *mut u32) {
        // SAFETY: the caller's contract.
        unsafe { avx512_compress(original.as_ptr().add(k), mask, out) }
    }
}

/// The mask of [`Kernel::mask`] for the 16 values at `x`, `y`, `z`, `original`, as [`avx2_mask`].
///
/// # Safety
/// AVX-512F, and 16 readable values at each pointer.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn avx512_mask<const HALF: bool>(
    x: *const f32,
    y: *const f32,
    z: *const f32,
    original: *const u32,
    o: [f32; 3],
    row: u32,
    threshold: f32,
    inside: f32,
) -> (u32, u32) {
    use std::arch::x86_64::*;
    // SAFETY: the caller's contract.
    unsafe {
        let dx = _mm512_sub_ps(_mm512_loadu_ps(x), _mm512_set1_ps(o[0]));
        let dy = _mm512_sub_ps(_mm512_loadu_ps(y), _mm512_set1_ps(o[1]));
        let dz = _mm512_sub_ps(_mm512_loadu_ps(z), _mm512_set1_ps(o[2]));
        let d2 = _mm512_add_ps(
            _mm512_add_ps(_mm512_mul_ps(dx, dx), _mm512_mul_ps(dy, dy)),
            _mm512_mul_ps(dz, dz),
        );
        let index = _mm512_loadu_si512(original.cast());
        let row = _mm512_set1_epi32(row as i32);
        let wanted = if HALF {
            _mm512_cmpgt_epu32_mask(index, row)
        } else {
            _mm512_cmpneq_epu32_mask(index, row)
        };
        let keep = _mm512_mask_cmp_ps_mask::<_CMP_NGT_UQ>(wanted, d2, _mm512_set1_ps(threshold));
        let sure = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(d2, _mm512_set1_ps(inside));
        (u32::from(keep), u32::from(sure))
    }
}

/// [`Kernel::compress`] for the 16 indices at `original`: one compressing store.
///
/// # Safety
/// AVX-512F, 16 readable indices at `original` and room for 16 at `out`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn avx512_compress(original: *const u32, mask: u32, out: *mut u32) {
    use std::arch::x86_64::*;
    // SAFETY: the caller's contract.
    unsafe {
        _mm512_storeu_si512(
            out.cast(),
            _mm512_maskz_compress_epi32(mask as __mmask16, _mm512_loadu_si512(original.cast())),
        )
    }
}

/// The kernels a traversal may use, narrowest first: a CPU that runs one runs those before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kernels {
    /// 4 lanes of portable code.
    Portable,
    /// 8 lanes of AVX2.
    Avx2,
    /// 16 lanes of AVX-512F.
    Avx512,
}

impl Kernels {
    /// The widest kernel this CPU runs (checked once per build).
    fn detected() -> Kernels {
        #[cfg(target_arch = "x86_64")]
        {
            // POPCNT (every CPU with AVX2 has it) counts a block's hits.
            let popcnt = std::is_x86_feature_detected!("popcnt");
            if popcnt && std::is_x86_feature_detected!("avx512f") {
                return Kernels::Avx512;
            }
            if popcnt && std::is_x86_feature_detected!("avx2") {
                return Kernels::Avx2;
            }
        }
        Kernels::Portable
    }

    /// The narrower of the two.
    fn at_most(self, other: Kernels) -> Kernels {
        self.min(other)
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

    /// The rows of every kernel the CPU runs (portable, AVX2, AVX-512F) are the same, entry for entry,
    /// in skewed cells with open and periodic directions, atoms inside and outside the cell, both kinds
    /// of list (the brute-force tests check whichever kernel the CPU runs).
    #[test]
    fn every_kernel_gives_the_same_rows() {
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
                let rows = |kernels: Kernels| {
                    let (mut offsets, mut neighbors, mut shifts) = (Vec::new(), Vec::new(), Vec::new());
                    binning.fill_rows_with(
                        &cell,
                        range * range,
                        kind,
                        &mut offsets,
                        &mut neighbors,
                        &mut shifts,
                        kernels,
                    );
                    (offsets, neighbors, shifts)
                };
                let portable = rows(Kernels::Portable);
                for kernels in [Kernels::Avx2, Kernels::Avx512] {
                    if kernels <= Kernels::detected() {
                        assert_eq!(portable, rows(kernels), "trial {trial} {kind:?} {kernels:?}");
                    }
                }
            }
        }
    }
}
