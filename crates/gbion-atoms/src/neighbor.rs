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
    /// Scratch memory of a build (the pairs before they are sorted into rows), kept for rebuilds.
    pairs: Vec<RawPair>,
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
        let mut list = NeighborList {
            kind,
            cutoff,
            skin,
            cell: cell.clone(),
            reference: Vec::new(),
            offsets: Vec::new(),
            neighbors: Vec::new(),
            shifts: Vec::new(),
            pairs: Vec::new(),
        };
        list.rebuild_from(cell, positions)?;
        Ok(list)
    }

    /// Rebuild for new positions and cell with the same cutoff, skin and kind, reusing the list's memory
    /// (what [`Self::update`] does when a rebuild is needed). On error the list is left unchanged.
    pub fn rebuild_from(&mut self, cell: &Cell, positions: &[Vec3]) -> Result<()> {
        if u32::try_from(positions.len()).is_err() {
            return Err(Error::Invalid(format!(
                "{} atoms exceed the neighbour list's limit of {}",
                positions.len(),
                u32::MAX
            )));
        }
        let range = self.cutoff + self.skin;
        let binning = Binning::new(cell, positions, range)?;
        binning.fill_rows(
            range * range,
            self.kind,
            &mut self.pairs,
            &mut self.offsets,
            &mut self.neighbors,
            &mut self.shifts,
        );
        self.cell.clone_from(cell);
        self.reference.clear();
        self.reference.extend_from_slice(positions);
        Ok(())
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
            let moved2 = dot(d, d);
            // A NaN position asks for a rebuild, which then reports it.
            moved2 > limit || moved2.is_nan()
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
        self.rebuild_from(&structure.cell, &structure.positions)?;
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
    check_positions(positions)?;
    let Some(upper) = distance_bound(cell, positions)? else {
        return Ok(None);
    };
    let mut range = FIRST_RANGE;
    loop {
        let binning = Binning::new(cell, positions, range)?;
        let mut best = f64::INFINITY;
        let _ = binning.for_each_half_pair(range * range, |hit| {
            best = best.min(hit.distance2);
            if hit.distance2 == 0.0 {
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

/// A distance (Å) within which some pair certainly exists, or `None` when no pair exists. Errors when the
/// atoms are spread so far that their separation overflows.
fn distance_bound(cell: &Cell, positions: &[Vec3]) -> Result<Option<f64>> {
    let shortest_periodic_edge = (0..3)
        .filter(|&k| cell.pbc()[k])
        .map(|k| cell.lengths()[k])
        .fold(f64::INFINITY, f64::min);
    if positions.len() < 2 {
        let exists = !positions.is_empty() && shortest_periodic_edge.is_finite();
        return Ok(exists.then_some(shortest_periodic_edge));
    }
    let mut low = [f64::INFINITY; 3];
    let mut high = [f64::NEG_INFINITY; 3];
    for p in positions {
        for k in 0..3 {
            low[k] = low[k].min(p[k]);
            high[k] = high[k].max(p[k]);
        }
    }
    let diagonal = norm(sub(high, low));
    if !diagonal.is_finite() {
        return Err(Error::Invalid(format!(
            "atoms span {low:?} to {high:?} Å: their distances overflow"
        )));
    }
    Ok(Some(shortest_periodic_edge.min(diagonal)))
}

/// Every coordinate must be finite.
fn check_positions(positions: &[Vec3]) -> Result<()> {
    match positions.iter().position(|x| x.iter().any(|v| !v.is_finite())) {
        Some(i) => Err(Error::Invalid(format!(
            "atom {i} has a non-finite position {:?}",
            positions[i]
        ))),
        None => Ok(()),
    }
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

/// Largest |image offset| of a position accepted (cells away from the given cell), so that every shift
/// sum fits an `i32`.
const MAX_IMAGE_OFFSET: f64 = (1i64 << 29) as f64;
/// Largest number of bin offsets searched around a bin; more means the range spans an absurd number of
/// periodic images of a thin cell.
const MAX_STENCIL: usize = 10_000_000;
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
        let mut counts = [0, 1, 2].map(|k| {
            let fit = (width(k) / (range * (1.0 + WIDTH_MARGIN))).floor();
            if fit >= 1.0 { fit.min(1e9) as usize } else { 1 }
        });
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

    /// The wrap tables of this grid: for each axis, bin b and offset d ∈ [−reach, reach], the bin b + d
    /// wrapped into the grid with the image shift crossed, or `None` past a non-periodic edge.
    fn wrap_tables(&self) -> WrapTables {
        let axis = |k: usize| -> Vec<Option<(usize, i32)>> {
            let n = self.counts[k] as i64;
            let m = self.reach[k] as i64;
            let mut table = Vec::with_capacity(self.counts[k] * (2 * self.reach[k] + 1));
            for b in 0..n {
                for d in -m..=m {
                    let v = b + d;
                    table.push(if self.pbc[k] {
                        Some((v.rem_euclid(n) as usize, v.div_euclid(n) as i32))
                    } else {
                        (0..n).contains(&v).then_some((v as usize, 0))
                    });
                }
            }
            table
        };
        WrapTables {
            reach: self.reach,
            axes: [axis(0), axis(1), axis(2)],
        }
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
        check_positions(positions)?;
        for (i, &x) in positions.iter().enumerate() {
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

    /// Fill the CSR arrays (`offsets`, `neighbors`, `shifts`, replaced, their memory reused) with every
    /// pair within √`range2`: a half list stores each pair once in the half-list convention, a full list
    /// also stores the reverse (other, owner, −shift).
    ///
    /// One traversal: the pairs, oriented, go to `pairs` (scratch memory kept by the list) while the rows
    /// are counted; then each pair is placed in its row (a counting sort).
    fn fill_rows(
        &self,
        range2: f64,
        kind: ListKind,
        pairs: &mut Vec<RawPair>,
        offsets: &mut Vec<usize>,
        neighbors: &mut Vec<u32>,
        shifts: &mut Vec<[i32; 3]>,
    ) {
        let n_atoms = self.positions.len();
        offsets.clear();
        offsets.resize(n_atoms + 1, 0);
        pairs.clear();
        let _ = self.for_each_half_pair(range2, |hit| {
            let pair = hit.oriented();
            offsets[pair.owner as usize + 1] += 1;
            if kind == ListKind::Full {
                offsets[pair.other as usize + 1] += 1;
            }
            pairs.push(pair);
            ControlFlow::<()>::Continue(())
        });
        for i in 0..n_atoms {
            offsets[i + 1] += offsets[i];
        }
        let total = offsets[n_atoms];
        neighbors.clear();
        neighbors.resize(total, 0);
        shifts.clear();
        shifts.resize(total, [0; 3]);
        let mut next = offsets.clone();
        let mut place = |owner: u32, other: u32, shift: [i32; 3]| {
            if let Some(slot) = next.get_mut(owner as usize)
                && let (Some(n), Some(s)) = (neighbors.get_mut(*slot), shifts.get_mut(*slot))
            {
                *n = other;
                *s = shift;
                *slot += 1;
            }
        };
        for pair in pairs.iter() {
            place(pair.owner, pair.other, pair.shift);
            if kind == ListKind::Full {
                place(pair.other, pair.owner, [-pair.shift[0], -pair.shift[1], -pair.shift[2]]);
            }
        }
    }

    /// Call `visit` once for every pair of atoms and image within √`range2` (an atom with itself only at a
    /// non-zero image). Each unordered pair at each image distance is visited exactly once: bin offsets d
    /// and −d describe the same pairs, so only lexicographically positive offsets are walked, plus the
    /// pairs a < b within a bin. Stops when `visit` breaks.
    ///
    /// For speed, the candidates of one bin (its own atoms, then the atoms of every stencil bin moved by
    /// their image translation) are first gathered into contiguous arrays; each atom of the bin then scans
    /// the candidates after itself in one branch-free loop that compacts the indices of those in range.
    fn for_each_half_pair<F>(&self, range2: f64, mut visit: F) -> ControlFlow<()>
    where
        F: FnMut(PairHit) -> ControlFlow<()>,
    {
        let stencil = self.grid.half_stencil();
        let wrap = self.grid.wrap_tables();
        let mut candidates = Candidates::default();
        let counts = self.grid.counts;
        for ba in 0..counts[0] {
            for bb in 0..counts[1] {
                for bc in 0..counts[2] {
                    let here = [ba, bb, bc];
                    let own = self.bin_range(self.grid.flat(here));
                    if own.is_empty() {
                        continue;
                    }
                    self.gather(here, own.clone(), &stencil, &wrap, &mut candidates);
                    for (p, a) in own.enumerate() {
                        let origin = self.positions[a];
                        candidates.scan(origin, p + 1, range2, |k, distance2| {
                            visit(PairHit {
                                owner: self.original[a],
                                owner_image: self.image[a],
                                other: candidates.original[k],
                                partial_shift: candidates.partial_shift[k],
                                distance2,
                            })
                        })?;
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Fill `candidates` with the atoms of bin `here` (range `own`) and of every bin at a stencil offset.
    fn gather(
        &self,
        here: [usize; 3],
        own: std::ops::Range<usize>,
        stencil: &[[i64; 3]],
        wrap: &WrapTables,
        candidates: &mut Candidates,
    ) {
        candidates.clear();
        candidates.extend(self, own, [0; 3], [0.0; 3]);
        for &offset in stencil {
            let Some((there, shift)) = wrap.neighbor_bin(here, offset) else {
                continue;
            };
            let atoms = self.bin_range(self.grid.flat(there));
            if !atoms.is_empty() {
                candidates.extend(self, atoms, shift, self.cell.translation(shift));
            }
        }
    }

    fn bin_range(&self, bin: usize) -> std::ops::Range<usize> {
        self.bin_start[bin]..self.bin_start[bin + 1]
    }
}

/// A pair found by the traversal, before orientation: owner atom a (caller's index, image offset n_a) and
/// the other atom b with `partial_shift` = S − n_b, so that r = x_b + (S − n_b + n_a)·M − x_a.
#[derive(Clone, Copy, Debug)]
struct PairHit {
    owner: u32,
    owner_image: [i32; 3],
    other: u32,
    partial_shift: [i32; 3],
    distance2: f64,
}

impl PairHit {
    /// The pair in the half-list convention: owner < other, or, for an atom and its own image, a
    /// lexicographically positive shift; the shift is relative to the caller's positions.
    #[inline(always)]
    fn oriented(self) -> RawPair {
        let p = self.partial_shift;
        let n = self.owner_image;
        let shift = [p[0] + n[0], p[1] + n[1], p[2] + n[2]];
        let swap = if self.owner == self.other {
            shift < [0, 0, 0]
        } else {
            self.other < self.owner
        };
        let sign = 1 - 2 * swap as i32;
        RawPair {
            owner: self.owner.min(self.other),
            other: self.owner.max(self.other),
            shift: [sign * shift[0], sign * shift[1], sign * shift[2]],
        }
    }
}

/// Candidate neighbours of one bin, contiguous (structure of arrays): positions moved by their image
/// translation, caller's index, and S − n_b.
#[derive(Default)]
struct Candidates {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    original: Vec<u32>,
    partial_shift: Vec<[i32; 3]>,
}

impl Candidates {
    fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
        self.z.clear();
        self.original.clear();
        self.partial_shift.clear();
    }

    /// Append the binned atoms `atoms`, seen through image `shift` (translation `t` = S·M).
    fn extend(&mut self, binning: &Binning, atoms: std::ops::Range<usize>, shift: [i32; 3], t: Vec3) {
        let positions = &binning.positions[atoms.clone()];
        self.x.extend(positions.iter().map(|w| w[0] + t[0]));
        self.y.extend(positions.iter().map(|w| w[1] + t[1]));
        self.z.extend(positions.iter().map(|w| w[2] + t[2]));
        self.original.extend_from_slice(&binning.original[atoms.clone()]);
        self.partial_shift.extend(
            binning.image[atoms]
                .iter()
                .map(|n| [shift[0] - n[0], shift[1] - n[1], shift[2] - n[2]]),
        );
    }

    /// Call `hit(k, r²)` for every candidate k ≥ `first` with |x_k − origin|² ≤ `range2`.
    ///
    /// Candidates are tested in blocks of [`BLOCK`] without branches (the compiler vectorises the block
    /// into a bit mask), and only the hits of a block are visited.
    #[inline(always)]
    fn scan<F>(&self, origin: Vec3, first: usize, range2: f64, mut hit: F) -> ControlFlow<()>
    where
        F: FnMut(usize, f64) -> ControlFlow<()>,
    {
        let n = self.x.len();
        let first = first.min(n);
        let (xs, ys, zs) = (&self.x[first..n], &self.y[first..n], &self.z[first..n]);
        let distance2 = |k: usize| {
            let (dx, dy, dz) = (xs[k] - origin[0], ys[k] - origin[1], zs[k] - origin[2]);
            dx * dx + dy * dy + dz * dz
        };
        let blocks = xs.len() / BLOCK;
        for b in 0..blocks {
            let base = b * BLOCK;
            let (bx, by, bz) = (
                &xs[base..base + BLOCK],
                &ys[base..base + BLOCK],
                &zs[base..base + BLOCK],
            );
            let mut mask = 0u32;
            for l in 0..BLOCK {
                let (dx, dy, dz) = (bx[l] - origin[0], by[l] - origin[1], bz[l] - origin[2]);
                let d2 = dx * dx + dy * dy + dz * dz;
                mask |= ((d2 <= range2) as u32) << l;
            }
            while mask != 0 {
                let k = base + mask.trailing_zeros() as usize;
                mask &= mask - 1;
                hit(first + k, distance2(k))?;
            }
        }
        for k in blocks * BLOCK..xs.len() {
            let d2 = distance2(k);
            if d2 <= range2 {
                hit(first + k, d2)?;
            }
        }
        ControlFlow::Continue(())
    }
}

/// Candidates tested together in [`Candidates::scan`].
const BLOCK: usize = 8;

/// For each axis, the bin reached from every bin by every offset within reach, with the image shift
/// crossed (`None` past a non-periodic edge): table lookups instead of divisions in the traversal.
struct WrapTables {
    reach: [usize; 3],
    axes: [Vec<Option<(usize, i32)>>; 3],
}

impl WrapTables {
    fn neighbor_bin(&self, b: [usize; 3], offset: [i64; 3]) -> Option<([usize; 3], [i32; 3])> {
        let mut target = [0usize; 3];
        let mut shift = [0i32; 3];
        for k in 0..3 {
            let width = 2 * self.reach[k] + 1;
            let column = (offset[k] + self.reach[k] as i64) as usize;
            let (t, s) = self.axes[k][b[k] * width + column]?;
            target[k] = t;
            shift[k] = s;
        }
        Some((target, shift))
    }
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
