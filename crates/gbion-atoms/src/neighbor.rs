//! Neighbour lists by linked cells (cell lists): every pair of atoms (i, j) and lattice image shift n with
//! |x_j + n·M − x_i| ≤ r_c + r_skin, built in O(N) for any triclinic cell, periodic or not per direction,
//! stored contiguously (CSR), with a cheap test of when the list must be rebuilt.
//!
//! What this module owns:
//! - the binning of atoms into a grid of bins in fractional space, each bin at least `cutoff + skin` wide
//!   perpendicular to its faces (so a pair within range lies in adjacent bins), with as many periodic images
//!   of the cell as needed when the cell is thinner than the range (each pair at each image distance is
//!   listed once; an atom's own images are neighbours too);
//! - [`NeighborList`]: half lists (each pair once) and full lists (each pair in both directions), shifts
//!   relative to the positions *as given* (atoms outside the cell are wrapped only internally);
//! - the Verlet-skin rebuild criterion (Verlet 1967; Allen & Tildesley, *Computer Simulation of Liquids*,
//!   2nd ed., §5.3): a list built with range r_c + r_skin stays complete for cutoff r_c while no atom has
//!   moved more than r_skin / 2 since the build;
//! - [`min_distance`], the shortest interatomic distance (images included) without storing any list.
//!
//! What it does not do: filter pairs to the cutoff (pairs between r_c and r_c + r_skin are kept, and
//! consumers compare distances with their own cutoff) or follow a changing cell (any change of the cell
//! asks for a rebuild).
//!
//! Units: Å throughout. Image shifts n are integers along the lattice vectors a, b, c (rows of the cell
//! matrix M), so the pair vector is r_ij = x_j + n·M − x_i.

use crate::cell::Cell;
use crate::linalg::{Vec3, dot, norm, sub};
use crate::structure::Structure;
use crate::{Error, Result};
use std::ops::ControlFlow;

/// Whether a list holds each pair once or in both directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// Each pair once: row i holds j with i < j, and i itself (an own periodic image) only with a shift
    /// that is lexicographically positive (first non-zero component > 0).
    Half,
    /// Each pair in both directions: row i holds (j, n) and row j holds (i, −n).
    Full,
}

/// One neighbour of an atom, computed from the positions passed to [`NeighborList::neighbors_of`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbor {
    /// Index of the neighbouring atom j.
    pub index: usize,
    /// Image shift n (along a, b, c) of atom j.
    pub shift: [i32; 3],
    /// r_ij = x_j + n·M − x_i (Å).
    pub vector: Vec3,
    /// |r_ij| (Å).
    pub distance: f64,
}

/// A neighbour list in compressed-row form: the neighbours of atom i are
/// `neighbors[offsets[i]..offsets[i + 1]]` with image shifts `shifts[offsets[i]..offsets[i + 1]]`.
#[derive(Clone, Debug)]
pub struct NeighborList {
    kind: ListKind,
    cutoff: f64,
    skin: f64,
    cell: Cell,
    /// Positions at build time (Å), for the rebuild criterion.
    reference: Vec<Vec3>,
    offsets: Vec<usize>,
    neighbors: Vec<u32>,
    shifts: Vec<[i32; 3]>,
}

impl NeighborList {
    /// The list of every pair within `cutoff + skin` (Å) of a structure.
    pub fn build(structure: &Structure, cutoff: f64, skin: f64, kind: ListKind) -> Result<NeighborList> {
        NeighborList::build_from(&structure.cell, &structure.positions, cutoff, skin, kind)
    }

    /// The list of every pair within `cutoff + skin` (Å) of atoms at `positions` (Å) in `cell`.
    ///
    /// Errors when the cutoff is not positive and finite, the skin is negative or not finite, a position is
    /// not finite or lies absurdly far outside the cell, or the range needs an absurd number of images.
    pub fn build_from(cell: &Cell, positions: &[Vec3], cutoff: f64, skin: f64, kind: ListKind) -> Result<NeighborList> {
        check_range(cutoff, skin)?;
        if u32::try_from(positions.len()).is_err() {
            return Err(Error::Invalid(format!(
                "{} atoms exceed the neighbour list's limit of {}",
                positions.len(),
                u32::MAX
            )));
        }
        let range = cutoff + skin;
        let binning = Binning::new(cell, positions, range)?;
        let pairs = binning.collect_half_pairs(range * range);
        let (offsets, neighbors, shifts) = compressed_rows(positions.len(), &pairs, kind);
        Ok(NeighborList {
            kind,
            cutoff,
            skin,
            cell: cell.clone(),
            reference: positions.to_vec(),
            offsets,
            neighbors,
            shifts,
        })
    }

    /// Half or full.
    pub fn kind(&self) -> ListKind {
        self.kind
    }

    /// The interaction cutoff r_c (Å) the list was built for.
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }

    /// The skin r_skin (Å): pairs up to r_c + r_skin are listed.
    pub fn skin(&self) -> f64 {
        self.skin
    }

    /// The cell the list was built in.
    pub fn cell(&self) -> &Cell {
        &self.cell
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.reference.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reference.is_empty()
    }

    /// Number of stored entries (pairs for a half list, twice that for a full list).
    pub fn n_entries(&self) -> usize {
        self.neighbors.len()
    }

    /// Row starts: atom i's entries are `offsets[i]..offsets[i + 1]` (length N + 1).
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Neighbour indices of all rows, concatenated.
    pub fn neighbors(&self) -> &[u32] {
        &self.neighbors
    }

    /// Image shifts of all rows, concatenated.
    pub fn shifts(&self) -> &[[i32; 3]] {
        &self.shifts
    }

    /// Neighbour indices and shifts of atom `i` (empty when `i` is out of range).
    pub fn row(&self, i: usize) -> (&[u32], &[[i32; 3]]) {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&start), Some(&end)) => (&self.neighbors[start..end], &self.shifts[start..end]),
            _ => (&[], &[]),
        }
    }

    /// The neighbours of atom `i` with vectors and distances from `positions` (Å), the current positions
    /// of the same atoms: r_ij = x_j + n·M − x_i with the cell the list was built in. Entries up to
    /// r_c + r_skin at build time are included; compare `distance` with the cutoff.
    ///
    /// # Panics
    /// When `positions` has fewer atoms than the list (a caller's mistake, not bad input).
    pub fn neighbors_of<'a>(&'a self, i: usize, positions: &'a [Vec3]) -> impl Iterator<Item = Neighbor> + 'a {
        let (indices, shifts) = self.row(i);
        let origin = positions[i];
        indices.iter().zip(shifts).map(move |(&j, &shift)| {
            let index = j as usize;
            let image = add_translation(positions[index], &self.cell, shift);
            let vector = sub(image, origin);
            Neighbor {
                index,
                shift,
                vector,
                distance: norm(vector),
            }
        })
    }

    /// Every stored entry as `(i, neighbour)`, computed from `positions` as in [`Self::neighbors_of`].
    pub fn pairs<'a>(&'a self, positions: &'a [Vec3]) -> impl Iterator<Item = (usize, Neighbor)> + 'a {
        (0..self.len()).flat_map(move |i| self.neighbors_of(i, positions).map(move |n| (i, n)))
    }

    /// Whether the list may have missed a pair within the cutoff at `positions`: true when some atom moved
    /// more than r_skin / 2 (Cartesian, unwrapped) since the build, or the number of atoms changed.
    /// O(N), stops at the first atom that moved too far.
    pub fn needs_rebuild(&self, positions: &[Vec3]) -> bool {
        if positions.len() != self.reference.len() {
            return true;
        }
        let limit = 0.25 * self.skin * self.skin;
        positions.iter().zip(&self.reference).any(|(now, then)| {
            let d = sub(*now, *then);
            // `!(… <= …)` so that a NaN position asks for a rebuild (which then reports it).
            !(dot(d, d) <= limit)
        })
    }

    /// [`Self::needs_rebuild`], or the cell differs from the one the list was built in.
    pub fn needs_rebuild_in(&self, cell: &Cell, positions: &[Vec3]) -> bool {
        *cell != self.cell || self.needs_rebuild(positions)
    }

    /// Rebuild from `structure` when [`Self::needs_rebuild_in`] says so; returns whether it rebuilt.
    pub fn update(&mut self, structure: &Structure) -> Result<bool> {
        if !self.needs_rebuild_in(&structure.cell, &structure.positions) {
            return Ok(false);
        }
        *self = NeighborList::build(structure, self.cutoff, self.skin, self.kind)?;
        Ok(true)
    }
}

/// The shortest distance (Å) between two atoms at `positions` in `cell`, periodic images included (an
/// atom's distance to its own image counts). `None` when there is no pair at all (fewer than two atoms
/// and no periodic direction).
///
/// Uses the cell-list traversal without storing pairs: with range r, any pair closer than r is found, so
/// the minimum over pairs within r is exact when one exists. The range starts at 1 Å and doubles until a
/// pair is found; it is bounded by the shortest periodic edge (an atom's own image) or the diagonal of the
/// atoms' bounding box. The number of pairs within 2r when none lies within r is bounded by packing, so
/// the cost stays O(N) per pass.
pub fn min_distance(cell: &Cell, positions: &[Vec3]) -> Result<Option<f64>> {
    /// First search range (Å): shorter than any chemical bond but H–H, so one or two passes usually do.
    const FIRST_RANGE: f64 = 1.0;
    let Some(upper) = distance_bound(cell, positions) else {
        return Ok(None);
    };
    let mut range = FIRST_RANGE;
    loop {
        let binning = Binning::new(cell, positions, range)?;
        let mut best = f64::INFINITY;
        let _ = binning.for_each_half_pair(range * range, |_, _, _, d2| {
            best = best.min(d2);
            if d2 == 0.0 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if best.is_finite() {
            return Ok(Some(best.sqrt()));
        }
        if range >= upper {
            return Ok(None);
        }
        range *= 2.0;
    }
}

/// A distance (Å) within which some pair certainly exists, or `None` when no pair exists.
fn distance_bound(cell: &Cell, positions: &[Vec3]) -> Option<f64> {
    let shortest_periodic_edge = (0..3)
        .filter(|&k| cell.pbc()[k])
        .map(|k| cell.lengths()[k])
        .fold(f64::INFINITY, f64::min);
    let diagonal = if positions.len() >= 2 {
        let mut low = [f64::INFINITY; 3];
        let mut high = [f64::NEG_INFINITY; 3];
        for p in positions {
            for k in 0..3 {
                low[k] = low[k].min(p[k]);
                high[k] = high[k].max(p[k]);
            }
        }
        norm(sub(high, low))
    } else {
        f64::INFINITY
    };
    let bound = shortest_periodic_edge.min(diagonal);
    (bound.is_finite() && !positions.is_empty()).then_some(bound)
}

fn check_range(cutoff: f64, skin: f64) -> Result<()> {
    if !(cutoff.is_finite() && cutoff > 0.0) {
        return Err(Error::Invalid(format!(
            "neighbour list cutoff must be positive and finite, got {cutoff}"
        )));
    }
    if !(skin.is_finite() && skin >= 0.0) {
        return Err(Error::Invalid(format!(
            "neighbour list skin must be non-negative and finite, got {skin}"
        )));
    }
    Ok(())
}

/// x + n·M.
fn add_translation(x: Vec3, cell: &Cell, shift: [i32; 3]) -> Vec3 {
    let t = cell.translation(shift);
    [x[0] + t[0], x[1] + t[1], x[2] + t[2]]
}

/// A pair found by the traversal, in the caller's indices: `r = x_other + shift·M − x_owner`.
#[derive(Clone, Copy, Debug)]
struct RawPair {
    owner: u32,
    other: u32,
    shift: [i32; 3],
}

/// CSR arrays from the half pairs (owner < other, or owner == other with a lexicographically positive
/// shift): a half list stores each as found; a full list also stores the reverse (other, owner, −shift).
/// Counting sort by owner, O(N + pairs), rows keep the traversal order.
fn compressed_rows(n_atoms: usize, pairs: &[RawPair], kind: ListKind) -> (Vec<usize>, Vec<u32>, Vec<[i32; 3]>) {
    let mut counts = vec![0usize; n_atoms + 1];
    for p in pairs {
        counts[p.owner as usize + 1] += 1;
        if kind == ListKind::Full {
            counts[p.other as usize + 1] += 1;
        }
    }
    for i in 0..n_atoms {
        counts[i + 1] += counts[i];
    }
    let offsets = counts.clone();
    let total = offsets[n_atoms];
    let mut neighbors = vec![0u32; total];
    let mut shifts = vec![[0i32; 3]; total];
    let mut next = counts;
    let mut place = |owner: u32, other: u32, shift: [i32; 3]| {
        let slot = &mut next[owner as usize];
        neighbors[*slot] = other;
        shifts[*slot] = shift;
        *slot += 1;
    };
    for p in pairs {
        place(p.owner, p.other, p.shift);
        if kind == ListKind::Full {
            place(p.other, p.owner, p.shift.map(|s| -s));
        }
    }
    (offsets, neighbors, shifts)
}

/// Largest |image offset| of a position accepted (cells away from the given cell), so that every shift
/// sum fits an `i32`.
const MAX_IMAGE_OFFSET: f64 = (1i64 << 29) as f64;
/// Largest number of bin offsets searched around a bin; more means the range spans an absurd number of
/// periodic images of a thin cell.
const MAX_STENCIL: usize = 50_000_000;
/// Relative margin that keeps a bin at least as wide as the range despite rounding.
const WIDTH_MARGIN: f64 = 1e-9;

/// The bin grid along the three lattice directions.
#[derive(Clone, Debug)]
struct Grid {
    /// Bins along a, b, c.
    counts: [usize; 3],
    /// How many bins away a neighbour within range can be, along a, b, c.
    reach: [usize; 3],
    pbc: [bool; 3],
    /// Fractional coordinate where bin 0 starts (0 along periodic directions, the atoms' minimum
    /// otherwise).
    start: Vec3,
    /// Fractional extent of the grid (1 along periodic directions, the atoms' extent otherwise).
    span: Vec3,
}

impl Grid {
    /// A grid whose bins are at least `range` wide perpendicular to their faces, with at most about
    /// `2 N + 64` bins in all (bins only grow when capped, so `reach` stays valid).
    fn new(cell: &Cell, start: Vec3, span: Vec3, range: f64, n_atoms: usize) -> Result<Grid> {
        let pbc = cell.pbc();
        let heights = cell.heights();
        let width = |k: usize| span[k] * heights[k];
        let mut counts = [0usize; 3];
        for k in 0..3 {
            let fit = (width(k) / (range * (1.0 + WIDTH_MARGIN))).floor();
            counts[k] = if fit >= 1.0 { fit.min(1e9) as usize } else { 1 };
        }
        let max_bins = 2 * n_atoms + 64;
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
        Ok(Grid {
            counts,
            reach,
            pbc,
            start,
            span,
        })
    }

    fn n_bins(&self) -> usize {
        total_bins(self.counts)
    }

    /// Bin coordinate along axis k of a fractional coordinate (wrapped into [0, 1) when periodic).
    fn bin_along(&self, k: usize, s: f64) -> usize {
        let t = if self.span[k] > 0.0 {
            (s - self.start[k]) / self.span[k]
        } else {
            0.0
        };
        let b = (t * self.counts[k] as f64).floor();
        if b <= 0.0 {
            0
        } else {
            (b as usize).min(self.counts[k] - 1)
        }
    }

    fn flat(&self, b: [usize; 3]) -> usize {
        (b[0] * self.counts[1] + b[1]) * self.counts[2] + b[2]
    }

    /// The bin reached from bin coordinates `b` by `offset`, with the image shift crossed on the way, or
    /// `None` when it falls off a non-periodic edge.
    fn neighbor_bin(&self, b: [usize; 3], offset: [i64; 3]) -> Option<([usize; 3], [i32; 3])> {
        let mut target = [0usize; 3];
        let mut shift = [0i32; 3];
        for k in 0..3 {
            let n = self.counts[k] as i64;
            let v = b[k] as i64 + offset[k];
            if self.pbc[k] {
                target[k] = v.rem_euclid(n) as usize;
                shift[k] = v.div_euclid(n) as i32;
            } else if (0..n).contains(&v) {
                target[k] = v as usize;
            } else {
                return None;
            }
        }
        Some((target, shift))
    }

    /// Bin offsets whose pairs are visited from the lower side: the lexicographically positive offsets
    /// within reach (the offset 0, the bin itself, is handled separately).
    fn half_stencil(&self) -> Vec<[i64; 3]> {
        let r = self.reach.map(|m| m as i64);
        let mut offsets = Vec::new();
        for a in -r[0]..=r[0] {
            for b in -r[1]..=r[1] {
                for c in -r[2]..=r[2] {
                    if [a, b, c] > [0, 0, 0] {
                        offsets.push([a, b, c]);
                    }
                }
            }
        }
        offsets
    }
}

/// The product of bin counts, saturating instead of overflowing.
fn total_bins(counts: [usize; 3]) -> usize {
    counts.iter().fold(1usize, |total, &c| total.saturating_mul(c))
}

/// Atoms sorted into bins: positions wrapped into the cell along periodic directions and stored in bin
/// order, with the image offset that was removed and the caller's index.
struct Binning {
    grid: Grid,
    cell: Cell,
    /// Wrapped positions w = x − n·M (Å), in bin order.
    positions: Vec<Vec3>,
    /// Image offset n of each binned atom (x = w + n·M).
    image: Vec<[i32; 3]>,
    /// Caller's index of each binned atom.
    original: Vec<u32>,
    /// Start of each bin in the binned arrays (length bins + 1).
    bin_start: Vec<usize>,
}

impl Binning {
    fn new(cell: &Cell, positions: &[Vec3], range: f64) -> Result<Binning> {
        let pbc = cell.pbc();
        let mut fractional = Vec::with_capacity(positions.len());
        let mut image = Vec::with_capacity(positions.len());
        for (i, &x) in positions.iter().enumerate() {
            if x.iter().any(|v| !v.is_finite()) {
                return Err(Error::Invalid(format!("atom {i} has a non-finite position {x:?}")));
            }
            let s = cell.to_fractional(x);
            let (s, n) = wrap_fractional(s, pbc)
                .filter(|_| s.iter().all(|v| v.is_finite()))
                .ok_or_else(|| Error::Invalid(format!("atom {i} at {x:?} lies too many cells away from the cell")))?;
            fractional.push(s);
            image.push(n);
        }
        let (start, span) = fractional_extent(&fractional, pbc);
        let grid = Grid::new(cell, start, span, range, positions.len())?;
        let bins: Vec<usize> = fractional
            .iter()
            .map(|s| grid.flat([0, 1, 2].map(|k| grid.bin_along(k, s[k]))))
            .collect();
        let bin_start = bin_starts(&bins, grid.n_bins());
        let mut fill = bin_start.clone();
        let mut order = vec![0usize; positions.len()];
        for (i, &b) in bins.iter().enumerate() {
            order[fill[b]] = i;
            fill[b] += 1;
        }
        let wrapped = |i: usize| add_translation(positions[i], cell, image[i].map(|n| -n));
        Ok(Binning {
            positions: order.iter().map(|&i| wrapped(i)).collect(),
            image: order.iter().map(|&i| image[i]).collect(),
            original: order.iter().map(|&i| i as u32).collect(),
            grid,
            cell: cell.clone(),
            bin_start,
        })
    }

    /// Every pair within √`range2` as a [`RawPair`] in the caller's indices and the half-list convention.
    fn collect_half_pairs(&self, range2: f64) -> Vec<RawPair> {
        let mut pairs = Vec::with_capacity(self.positions.len() * 8);
        let _ = self.for_each_half_pair(range2, |a, b, shift, _| {
            pairs.push(self.raw_pair(a, b, shift));
            ControlFlow::<()>::Continue(())
        });
        pairs
    }

    /// The pair of binned atoms a, b with internal shift S (w_b + S·M − w_a), in the caller's indices and
    /// positions: x_b + (S + n_a − n_b)·M − x_a, oriented so that owner < other, or, for an atom and its
    /// own image, the shift is lexicographically positive.
    fn raw_pair(&self, a: usize, b: usize, shift: [i32; 3]) -> RawPair {
        let (na, nb) = (self.image[a], self.image[b]);
        let shift = [0, 1, 2].map(|k| shift[k] + na[k] - nb[k]);
        let (ia, ib) = (self.original[a], self.original[b]);
        if ia < ib || (ia == ib && shift > [0, 0, 0]) {
            RawPair {
                owner: ia,
                other: ib,
                shift,
            }
        } else {
            RawPair {
                owner: ib,
                other: ia,
                shift: shift.map(|s| -s),
            }
        }
    }

    /// Call `visit(a, b, S, d²)` once for every pair of binned atoms (a, b) and image S with
    /// d² = |w_b + S·M − w_a|² ≤ `range2`, excluding an atom with itself at S = 0. Each unordered pair at
    /// each image distance is visited exactly once: offsets d and −d between two bins describe the same
    /// pairs, so only lexicographically positive offsets are walked, plus the pairs a < b within a bin.
    /// Stops when `visit` breaks.
    fn for_each_half_pair<F>(&self, range2: f64, mut visit: F) -> ControlFlow<()>
    where
        F: FnMut(usize, usize, [i32; 3], f64) -> ControlFlow<()>,
    {
        let stencil = self.grid.half_stencil();
        let counts = self.grid.counts;
        for ba in 0..counts[0] {
            for bb in 0..counts[1] {
                for bc in 0..counts[2] {
                    let here = [ba, bb, bc];
                    let own = self.bin_range(self.grid.flat(here));
                    self.visit_within_bin(own.clone(), range2, &mut visit)?;
                    for &offset in &stencil {
                        let Some((there, shift)) = self.grid.neighbor_bin(here, offset) else {
                            continue;
                        };
                        let other = self.bin_range(self.grid.flat(there));
                        self.visit_between_bins(own.clone(), other, shift, range2, &mut visit)?;
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn bin_range(&self, bin: usize) -> std::ops::Range<usize> {
        self.bin_start[bin]..self.bin_start[bin + 1]
    }

    fn visit_within_bin<F>(&self, bin: std::ops::Range<usize>, range2: f64, visit: &mut F) -> ControlFlow<()>
    where
        F: FnMut(usize, usize, [i32; 3], f64) -> ControlFlow<()>,
    {
        let atoms = &self.positions[bin.clone()];
        for (ia, &wa) in atoms.iter().enumerate() {
            for (ib, &wb) in atoms.iter().enumerate().skip(ia + 1) {
                let d2 = distance2(wb, wa);
                if d2 <= range2 {
                    visit(bin.start + ia, bin.start + ib, [0; 3], d2)?;
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn visit_between_bins<F>(
        &self,
        own: std::ops::Range<usize>,
        other: std::ops::Range<usize>,
        shift: [i32; 3],
        range2: f64,
        visit: &mut F,
    ) -> ControlFlow<()>
    where
        F: FnMut(usize, usize, [i32; 3], f64) -> ControlFlow<()>,
    {
        if own.is_empty() || other.is_empty() {
            return ControlFlow::Continue(());
        }
        let translation = self.cell.translation(shift);
        let targets = &self.positions[other.clone()];
        for (ia, &wa) in self.positions[own.clone()].iter().enumerate() {
            // w_b + S·M − w_a = w_b − (w_a − S·M)
            let origin = sub(wa, translation);
            for (ib, &wb) in targets.iter().enumerate() {
                let d2 = distance2(wb, origin);
                if d2 <= range2 {
                    visit(own.start + ia, other.start + ib, shift, d2)?;
                }
            }
        }
        ControlFlow::Continue(())
    }
}

#[inline(always)]
fn distance2(a: Vec3, b: Vec3) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

/// Fractional coordinates wrapped into [0, 1) along periodic directions, with the integer offset removed
/// (s = wrapped + n); `None` when the offset is beyond [`MAX_IMAGE_OFFSET`].
fn wrap_fractional(s: Vec3, pbc: [bool; 3]) -> Option<(Vec3, [i32; 3])> {
    let mut wrapped = s;
    let mut offset = [0i32; 3];
    for k in 0..3 {
        if !pbc[k] {
            continue;
        }
        let mut n = s[k].floor();
        if n.abs() > MAX_IMAGE_OFFSET {
            return None;
        }
        let mut w = s[k] - n;
        if w >= 1.0 {
            // s just below an integer rounds up: it belongs to the next cell's first bin.
            w = 0.0;
            n += 1.0;
        }
        wrapped[k] = w;
        offset[k] = n as i32;
    }
    Some((wrapped, offset))
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

/// Prefix sums of bin occupancy: bin b holds sorted atoms `starts[b]..starts[b + 1]`.
fn bin_starts(bins: &[usize], n_bins: usize) -> Vec<usize> {
    let mut starts = vec![0usize; n_bins + 1];
    for &b in bins {
        starts[b + 1] += 1;
    }
    for b in 0..n_bins {
        starts[b + 1] += starts[b];
    }
    starts
}
