//! Energy changes of local moves for Monte Carlo: E(after) − E(before) = Σ_{i ∈ S} (E_i' − E_i), summed
//! over the sites S whose neighbourhood the change touches, since an MTP site energy depends only on
//! the neighbours within max_dist.
//!
//! * species change at a: S = {a} ∪ neighbours of a; swap of a and b: S = {a, b} ∪ both neighbourhoods;
//! * move of s to p (any distance): S = {s} ∪ neighbours of s at its old place ∪ atoms within the cutoff of
//!   p. The new neighbours of p are found by a scan over all atoms and the periodic images that can lie
//!   within the cutoff (O(N) distance checks, no list needed); only the sites in S are evaluated.
//!
//! Old neighbourhoods come from the (full) neighbour list, which must be valid for the structure before the
//! change.

use super::Mtp;
use super::kernel::SiteWork;
use crate::potential::require_list;
use crate::{Change, Error, Result};
use gbion_atoms::{Cell, NeighborList, Structure, Vec3};

/// Type index of each atomic number (usize::MAX: not in the species map).
pub(super) type TypeTable = [usize; 256];

impl Mtp {
    /// E(after) − E(before) of `change` (eV), from the sites within the cutoff of the change only.
    pub(super) fn local_energy_change(
        &self,
        structure: &Structure,
        list: &NeighborList,
        change: &Change,
    ) -> Result<f64> {
        self.check_local(structure, list)?;
        let table = self.type_table();
        let type_at = |atom: usize| self.type_in(&table, structure, atom);
        let in_range = |atom: usize| in_range(structure, atom);
        let mut work = SiteWork::default();
        match *change {
            Change::SetElement { atom, element } => {
                let atom = in_range(atom)?;
                let new_type = self.type_of(element, atom)?;
                let sites = self.sites_around(structure, list, &[atom]);
                let retyped = |j: usize| if j == atom { Ok(new_type) } else { type_at(j) };
                self.retyped_change(&mut work, structure, list, &sites, &type_at, &retyped)
            }
            Change::Swap { a, b } => {
                let (a, b) = (in_range(a)?, in_range(b)?);
                if structure.elements[a] == structure.elements[b] {
                    return Ok(0.0);
                }
                let sites = self.sites_around(structure, list, &[a, b]);
                let swapped = |j: usize| match j {
                    _ if j == a => type_at(b),
                    _ if j == b => type_at(a),
                    _ => type_at(j),
                };
                self.retyped_change(&mut work, structure, list, &sites, &type_at, &swapped)
            }
            Change::Move { atom, position } => {
                let atom = in_range(atom)?;
                if position.iter().any(|x| !x.is_finite()) {
                    return Err(Error::Invalid(format!(
                        "atom {atom} cannot move to the non-finite position {position:?}"
                    )));
                }
                self.move_change(&mut work, structure, list, atom, position, &type_at)
            }
        }
    }

    /// Errors unless the potential can evaluate energies and `list` is a full list of the cutoff's range
    /// for the atoms of `structure`.
    pub(super) fn check_local(&self, structure: &Structure, list: &NeighborList) -> Result<()> {
        require_list(Some(list), self.list_request())?;
        if list.len() != structure.len() {
            return Err(Error::Invalid(format!(
                "the neighbour list has {} atoms, the structure {}",
                list.len(),
                structure.len()
            )));
        }
        self.check_ready(true)
    }

    pub(super) fn type_table(&self) -> TypeTable {
        let mut table = [usize::MAX; 256];
        for (t, e) in self.species.iter().enumerate() {
            table[usize::from(e.0)] = t;
        }
        table
    }

    /// The type index of atom `atom` of `structure` by `table` (an error for elements outside the map).
    pub(super) fn type_in(&self, table: &TypeTable, structure: &Structure, atom: usize) -> Result<usize> {
        let element = structure.elements[atom];
        match table[usize::from(element.0)] {
            usize::MAX => self.type_of(element, atom),
            t => Ok(t),
        }
    }

    /// The given atoms and every atom within the cutoff of one of them (sorted, each once).
    fn sites_around(&self, structure: &Structure, list: &NeighborList, atoms: &[usize]) -> Vec<usize> {
        let cutoff = self.cutoff();
        let mut sites: Vec<usize> = atoms.to_vec();
        for &a in atoms {
            sites.extend(
                list.neighbors_of(a, &structure.positions)
                    .filter(|n| n.distance < cutoff)
                    .map(|n| n.index),
            );
        }
        sites.sort_unstable();
        sites.dedup();
        sites
    }

    /// The energy of site `atom` with neighbours (index, r_ij) of types given by `type_at`.
    fn site_energy(
        &self,
        work: &mut SiteWork,
        atom: usize,
        neighbours: impl Iterator<Item = (usize, Vec3)>,
        type_at: &impl Fn(usize) -> Result<usize>,
    ) -> Result<f64> {
        let mut typed = Vec::new();
        for (j, r) in neighbours {
            typed.push((j, r, type_at(j)?));
        }
        work.load(&self.model, typed.into_iter())
            .map_err(|j| crate::potential::coincident(atom, j))?;
        let centre = type_at(atom)?;
        work.moments(&self.model, centre);
        Ok(work.energy(&self.model, centre))
    }

    /// The energy of site `atom` as the list gives its neighbours.
    fn listed_site_energy(
        &self,
        work: &mut SiteWork,
        structure: &Structure,
        list: &NeighborList,
        atom: usize,
        type_at: &impl Fn(usize) -> Result<usize>,
    ) -> Result<f64> {
        let neighbours = list
            .neighbors_of(atom, &structure.positions)
            .map(|n| (n.index, n.vector));
        self.site_energy(work, atom, neighbours, type_at)
    }

    /// Σ over `sites` of the site energy with types `after` minus that with types `before` (same geometry).
    fn retyped_change(
        &self,
        work: &mut SiteWork,
        structure: &Structure,
        list: &NeighborList,
        sites: &[usize],
        before: &impl Fn(usize) -> Result<usize>,
        after: &impl Fn(usize) -> Result<usize>,
    ) -> Result<f64> {
        let mut change = 0.0;
        for &i in sites {
            change += self.listed_site_energy(work, structure, list, i, after)?;
            change -= self.listed_site_energy(work, structure, list, i, before)?;
        }
        Ok(change)
    }

    fn move_change(
        &self,
        work: &mut SiteWork,
        structure: &Structure,
        list: &NeighborList,
        moved: usize,
        position: Vec3,
        type_at: &impl Fn(usize) -> Result<usize>,
    ) -> Result<f64> {
        let cell = &structure.cell;
        let cutoff = self.cutoff();
        // The moved atom's new neighbours: other atoms, then its own periodic images.
        let mut new_neighbours = Vec::new();
        for (j, &x) in structure.positions.iter().enumerate().filter(|&(j, _)| j != moved) {
            images_within(cell, position, x, cutoff, |_, r| new_neighbours.push((j, r)));
        }
        images_within(cell, position, position, cutoff, |shift, r| {
            if shift != [0; 3] {
                new_neighbours.push((moved, r));
            }
        });
        let mut sites = self.sites_around(structure, list, &[moved]);
        sites.extend(new_neighbours.iter().map(|&(j, _)| j));
        sites.sort_unstable();
        sites.dedup();

        let mut change = self.site_energy(work, moved, new_neighbours.iter().copied(), type_at)?;
        change -= self.listed_site_energy(work, structure, list, moved, type_at)?;
        for &i in sites.iter().filter(|&&i| i != moved) {
            let x_i = structure.positions[i];
            let mut neighbours: Vec<(usize, Vec3)> = list
                .neighbors_of(i, &structure.positions)
                .filter(|n| n.index != moved)
                .map(|n| (n.index, n.vector))
                .collect();
            images_within(cell, x_i, position, cutoff, |_, r| neighbours.push((moved, r)));
            change += self.site_energy(work, i, neighbours.into_iter(), type_at)?;
            change -= self.listed_site_energy(work, structure, list, i, type_at)?;
        }
        Ok(change)
    }
}

/// `atom` when it is an atom of `structure`, else an error.
pub(super) fn in_range(structure: &Structure, atom: usize) -> Result<usize> {
    if atom < structure.len() {
        Ok(atom)
    } else {
        Err(Error::Invalid(format!(
            "atom {atom} is out of range ({} atoms)",
            structure.len()
        )))
    }
}

/// Call `found(n, r)` for every lattice shift n (zero along non-periodic directions) with
/// r = target + n·M − centre shorter than `cutoff` (Å). Only shifts with |f_k + n_k| h_k < cutoff are tried
/// (f the fractional coordinates of target − centre, h_k the cell heights), which every such image obeys.
fn images_within(cell: &Cell, centre: Vec3, target: Vec3, cutoff: f64, mut found: impl FnMut([i32; 3], Vec3)) {
    let d = [0, 1, 2].map(|k| target[k] - centre[k]);
    let f = cell.to_fractional(d);
    let heights = cell.heights();
    let pbc = cell.pbc();
    let range = |k: usize| -> (i32, i32) {
        if !pbc[k] {
            return (0, 0);
        }
        let reach = cutoff / heights[k];
        ((-f[k] - reach).ceil() as i32, (-f[k] + reach).floor() as i32)
    };
    let (rx, ry, rz) = (range(0), range(1), range(2));
    let cutoff2 = cutoff * cutoff;
    for nx in rx.0..=rx.1 {
        for ny in ry.0..=ry.1 {
            for nz in rz.0..=rz.1 {
                let shift = [nx, ny, nz];
                let t = cell.translation(shift);
                let r = [d[0] + t[0], d[1] + t[1], d[2] + t[2]];
                if r[0] * r[0] + r[1] * r[1] + r[2] * r[2] < cutoff2 {
                    found(shift, r);
                }
            }
        }
    }
}
