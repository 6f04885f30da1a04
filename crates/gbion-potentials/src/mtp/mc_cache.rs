//! [`MomentCache`]: the MTP's stateful evaluator of Monte Carlo energy changes ([`LocalEnergy`]), which
//! prices a species swap or a species change without looping over the neighbours of the sites around it,
//! at a cost per attempt independent of the number of atoms.
//!
//! It keeps, per site i of the current configuration, the basic moments M_m(i) (see the `kernel` module
//! doc) and the site energy E_i. When atom a changes type t_a → t_a' (a swap is two such changes):
//!
//! * every other site i with a among its neighbours (|r_ia| < max_dist, each periodic image) changes only
//!   through the radial values of that neighbour, M_m(i)' = M_m(i) + Σ_images (f_μ(r_ia; t_i, t_a') −
//!   f_μ(r_ia; t_i, t_a)) P_p(u_ia) for each row m = {μ, p}, followed by the products and E_i' (O(B +
//!   products) per site, B basic moments; `SiteWork::add_retyped_neighbour`, `SiteWork::energy_from_basic`);
//!   the vectors r_ia come from a's own (full) list row, r_ia = −r_ai;
//! * the changed atoms are evaluated in full with their new types;
//! * ΔE = Σ_i (E_i' − E_i) over these sites in a fixed order (changed atoms, then the others by index),
//!   with E_i and M_m(i) from the cache.
//!
//! Determinism: an entry is only ever written by a full evaluation of its site in the current
//! configuration (with the list's neighbour order), the first time a change touches the site; an accepted
//! change marks the entries of the changed atoms and of their neighbours stale, and anything else (the
//! list rebuilt, positions, cell or elements changed behind the cache's back) marks all entries stale in
//! O(1) (a generation counter). So every entry used equals a fresh evaluation, and ΔE is a function of the
//! configuration and the list alone, whatever was cached or attempted before: a run resumed from a
//! checkpoint, which starts with an empty cache, reproduces the uninterrupted run bit for bit.
//!
//! Atom moves ([`Change::Move`]) are priced by [`Mtp::local_energy_change`] without the cache; an accepted
//! move marks all entries stale. Memory: B + 1 doubles per atom (B = 130 at level 16, about 1 kB per atom).

use super::Mtp;
use super::kernel::SiteWork;
use super::local::{TypeTable, in_range};
use crate::potential::LocalEnergy;
use crate::{Change, Result};
use gbion_atoms::{Cell, Element, NeighborList, Structure, Vec3};

/// Added to the cutoff (Å) when the sites around a change are found from the changed atom's own list row:
/// the vector r_ai seen from a may differ in its last bit from r_ia seen from i, and a site whose full
/// evaluation counts a as a neighbour must never be missed when entries are marked stale.
const ROUNDING_MARGIN: f64 = 1e-9;

/// Cached basic moments and site energies of one configuration (see the module doc).
pub(super) struct MomentCache<'m> {
    mtp: &'m Mtp,
    table: TypeTable,
    /// The configuration the entries describe; `None` before the first [`LocalEnergy::sync`] and after
    /// [`LocalEnergy::invalidate`].
    cell: Option<Cell>,
    positions: Vec<Vec3>,
    elements: Vec<Element>,
    /// Type index of each atom (usize::MAX: an element outside the species map).
    types: Vec<usize>,
    /// Basic moments, B per atom ([i][m]).
    basic: Vec<f64>,
    /// Site energies (eV).
    energy: Vec<f64>,
    /// Entry i is current when `stamp[i] == generation`.
    stamp: Vec<u32>,
    generation: u32,
    work: SiteWork,
    /// Basic moments of one site after the change.
    after: Vec<f64>,
    /// The neighbour retypings of the change being priced.
    retyped: Vec<Retyped>,
}

/// One neighbour of `site` that changes type.
#[derive(Clone, Copy)]
struct Retyped {
    site: usize,
    /// r from the site to the neighbour (Å).
    vector: Vec3,
    /// (old, new) type of the neighbour.
    types: (usize, usize),
}

/// An atom that changes type: (atom, old type, new type).
type TypeChange = (usize, usize, usize);

impl<'m> MomentCache<'m> {
    pub(super) fn new(mtp: &'m Mtp) -> MomentCache<'m> {
        MomentCache {
            mtp,
            table: mtp.type_table(),
            cell: None,
            positions: Vec::new(),
            elements: Vec::new(),
            types: Vec::new(),
            basic: Vec::new(),
            energy: Vec::new(),
            stamp: Vec::new(),
            generation: 1,
            work: SiteWork::default(),
            after: Vec::new(),
            retyped: Vec::new(),
        }
    }

    fn basic_count(&self) -> usize {
        self.mtp.parameters.alpha_index_basic.len()
    }

    /// Mark every entry stale.
    fn mark_all_stale(&mut self) {
        if self.generation == u32::MAX {
            self.stamp.fill(0);
            self.generation = 0;
        }
        self.generation += 1;
    }

    /// The type of atom `atom`, or the MTP's error for an element outside its map.
    fn type_of(&self, atom: usize) -> Result<usize> {
        match self.types[atom] {
            usize::MAX => self.mtp.type_of(self.elements[atom], atom),
            t => Ok(t),
        }
    }

    /// The energy of site `atom` with the types of the current configuration except `changes`, evaluated in
    /// full; the basic moments are left in `self.work`.
    fn evaluate(
        &mut self,
        structure: &Structure,
        list: &NeighborList,
        atom: usize,
        changes: &[TypeChange],
    ) -> Result<f64> {
        let type_at = |j: usize| changes.iter().find(|c| c.0 == j).map_or(self.types[j], |c| c.2);
        let centre = self.type_of(atom)?;
        for &j in list.row(atom).0 {
            if type_at(j as usize) == usize::MAX {
                self.type_of(j as usize)?;
            }
        }
        let centre = changes.iter().find(|c| c.0 == atom).map_or(centre, |c| c.2);
        let neighbours = list
            .neighbors_of(atom, &structure.positions)
            .map(|n| (n.index, n.vector, type_at(n.index)));
        self.work
            .load(&self.mtp.model, neighbours)
            .map_err(|j| crate::potential::coincident(atom, j))?;
        self.work.moments(&self.mtp.model, centre);
        Ok(self.work.energy(&self.mtp.model, centre))
    }

    /// The cached energy of site `atom`, filling its entry first when it is stale.
    fn site(&mut self, structure: &Structure, list: &NeighborList, atom: usize) -> Result<f64> {
        if self.stamp[atom] != self.generation {
            let energy = self.evaluate(structure, list, atom, &[])?;
            let b = self.basic_count();
            self.basic[atom * b..(atom + 1) * b].copy_from_slice(self.work.basic_moments(&self.mtp.model));
            self.energy[atom] = energy;
            self.stamp[atom] = self.generation;
        }
        Ok(self.energy[atom])
    }

    /// ΔE when the atoms of `changes` change type (see the module doc).
    fn retype_change(&mut self, structure: &Structure, list: &NeighborList, changes: &[TypeChange]) -> Result<f64> {
        let mut delta = 0.0;
        for &(atom, _, _) in changes {
            let before = self.site(structure, list, atom)?;
            delta += self.evaluate(structure, list, atom, changes)? - before;
        }
        let cutoff = self.mtp.cutoff() + ROUNDING_MARGIN;
        let mut retyped = std::mem::take(&mut self.retyped);
        retyped.clear();
        for &(atom, old, new) in changes {
            retyped.extend(
                list.neighbors_of(atom, &structure.positions)
                    .filter(|n| n.distance < cutoff && !changes.iter().any(|c| c.0 == n.index))
                    .map(|n| Retyped {
                        site: n.index,
                        vector: n.vector.map(|x| -x),
                        types: (old, new),
                    }),
            );
        }
        // Stable: the retypings of one site stay in list order.
        retyped.sort_by_key(|r| r.site);
        let b = self.basic_count();
        let result = (|| {
            for group in retyped.chunk_by(|x, y| x.site == y.site) {
                let site = group[0].site;
                let before = self.site(structure, list, site)?;
                let centre = self.types[site];
                self.after.clear();
                self.after.extend_from_slice(&self.basic[site * b..(site + 1) * b]);
                for r in group {
                    self.work
                        .add_retyped_neighbour(&self.mtp.model, centre, r.vector, r.types, &mut self.after);
                }
                delta += self.work.energy_from_basic(&self.mtp.model, centre, &self.after) - before;
            }
            Ok(delta)
        })();
        self.retyped = retyped;
        result
    }

    /// Copy the configuration and mark all entries stale.
    fn take(&mut self, structure: &Structure) {
        let n = structure.len();
        let b = self.basic_count();
        self.cell = Some(structure.cell.clone());
        self.positions.clone_from(&structure.positions);
        self.elements.clone_from(&structure.elements);
        self.types = self.elements.iter().map(|e| self.table[usize::from(e.0)]).collect();
        self.basic.resize(n * b, 0.0);
        self.energy.resize(n, 0.0);
        self.stamp.resize(n, 0);
        self.mark_all_stale();
    }
}

impl LocalEnergy for MomentCache<'_> {
    fn sync(&mut self, structure: &Structure) {
        let same = self.cell.as_ref() == Some(&structure.cell)
            && self.positions == structure.positions
            && self.elements == structure.elements;
        if !same {
            self.take(structure);
        }
    }

    fn energy_change(&mut self, structure: &Structure, list: &NeighborList, change: &Change) -> Result<f64> {
        self.mtp.check_local(structure, list)?;
        if self.positions.len() != structure.len() || self.cell.is_none() {
            self.take(structure);
        }
        match *change {
            Change::SetElement { atom, element } => {
                let atom = in_range(structure, atom)?;
                let (old, new) = (self.type_of(atom)?, self.mtp.type_of(element, atom)?);
                if old == new {
                    return Ok(0.0);
                }
                self.retype_change(structure, list, &[(atom, old, new)])
            }
            Change::Swap { a, b } => {
                let (a, b) = (in_range(structure, a)?, in_range(structure, b)?);
                let (ta, tb) = (self.type_of(a)?, self.type_of(b)?);
                if ta == tb {
                    return Ok(0.0);
                }
                self.retype_change(structure, list, &[(a, ta, tb), (b, tb, ta)])
            }
            Change::Move { .. } => self.mtp.local_energy_change(structure, list, change),
        }
    }

    fn accepted(&mut self, structure: &Structure, list: &NeighborList, change: &Change) {
        let atoms = match *change {
            Change::SetElement { atom, .. } => [atom, atom],
            Change::Swap { a, b } => [a, b],
            Change::Move { .. } => return self.invalidate(),
        };
        if self.cell.is_none() || atoms.iter().any(|&a| a >= self.elements.len() || a >= structure.len()) {
            return self.invalidate();
        }
        let cutoff = self.mtp.cutoff() + ROUNDING_MARGIN;
        for atom in atoms {
            self.elements[atom] = structure.elements[atom];
            self.types[atom] = self.table[usize::from(structure.elements[atom].0)];
            self.stamp[atom] = 0;
            for n in list
                .neighbors_of(atom, &structure.positions)
                .filter(|n| n.distance < cutoff)
            {
                self.stamp[n.index] = 0;
            }
        }
    }

    fn invalidate(&mut self) {
        self.cell = None;
        self.mark_all_stale();
    }
}
