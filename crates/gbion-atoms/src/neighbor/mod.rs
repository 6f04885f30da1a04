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
//! Submodules: `grid` (bin counts, stencil reach, steps along a and b and runs of bins along c, own-image
//! shifts, wrapping into the cell) and `binning` (atoms sorted into bins and the row-by-row traversal
//! that fills the rows; its doc gives the layout, the stretches scanned and the f32 screen).
//!
//! What it does not do: filter pairs to the cutoff (pairs between r_c and r_c + r_skin are kept, and
//! consumers compare distances with their own cutoff) or follow a changing cell (any change of the cell
//! asks for a rebuild).
//!
//! Units: Å throughout. Image shifts n are integers along the lattice vectors a, b, c (rows of the cell
//! matrix M), so the pair vector is r_ij = x_j + n·M − x_i.

mod binning;
mod grid;

use crate::cell::Cell;
use crate::linalg::{Vec3, dot, norm, sub};
use crate::structure::Structure;
use crate::{Error, Result};
use binning::{Binning, HitSink, RowScanner};
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
///
/// Within a row the entries are not sorted: they come bin by bin over the stencil around the atom, then
/// the atom's own images. The set of entries is what the [`ListKind`] defines; the order may change
/// between versions.
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
    /// Scratch memory of a build (the atoms sorted into bins), kept for rebuilds.
    binning: Binning,
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
            binning: Binning::default(),
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
        self.binning.fill(cell, positions, range)?;
        self.binning.fill_rows(
            cell,
            range * range,
            self.kind,
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
    let mut binning = Binning::default();
    loop {
        binning.fill(cell, positions, range)?;
        let best = shortest_squared_distance(cell, &binning, range * range);
        if best.is_finite() {
            return Ok(Some(best.sqrt()));
        }
        if range >= upper {
            return Ok(None);
        }
        range *= 2.0;
    }
}

/// The smallest squared distance (Å²) within √`range2` between binned atoms, own images included, or
/// infinity when no pair is that close. Stops early at a distance of zero.
fn shortest_squared_distance(cell: &Cell, binning: &Binning, range2: f64) -> f64 {
    let own_image = binning
        .grid
        .own_image_shifts(cell, range2, true)
        .into_iter()
        .map(|shift| {
            let t = cell.translation(shift);
            dot(t, t)
        })
        .fold(f64::INFINITY, f64::min);
    let mut shortest = Shortest(if binning.len() > 0 { own_image } else { f64::INFINITY });
    let mut scanner = RowScanner::new(binning, range2, ListKind::Half);
    for i in 0..binning.len() {
        if scanner.row(i, &mut shortest).is_break() {
            break;
        }
    }
    shortest.0
}

/// The smallest squared distance (Å²) seen; stops the traversal at zero.
struct Shortest(f64);

impl HitSink for Shortest {
    fn push(&mut self, hit: binning::Hit) -> ControlFlow<()> {
        self.0 = self.0.min(hit.distance2);
        if hit.distance2 == 0.0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
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
#[inline]
fn add_translation(x: Vec3, cell: &Cell, shift: [i32; 3]) -> Vec3 {
    let t = cell.translation(shift);
    [x[0] + t[0], x[1] + t[1], x[2] + t[2]]
}
