//! [`Engine`]: a potential with a Verlet-skin neighbour list that is kept between evaluations and rebuilt
//! only when some atom has moved more than half the skin or the cell changed
//! (gbion_atoms::neighbor, Allen & Tildesley 2nd ed. §5.3), and a counter of evaluations.
//!
//! Reproducibility: the order in which a potential sums pairs follows the list, so the bits of a force
//! depend on when the list was last built. [`Engine::reset_list`] rebuilds it from the current positions;
//! the run driver calls it at every checkpoint, in an uninterrupted run and after a resume alike, which makes
//! the continuation a function of the checkpointed state only.

use crate::Result;
use gbion_atoms::{NeighborList, Structure};
use gbion_potentials::{Change, Output, Potential, Request};

/// A potential and its neighbour list.
pub struct Engine<'p> {
    potential: &'p dyn Potential,
    skin: f64,
    list: Option<NeighborList>,
    evaluations: u64,
}

impl<'p> Engine<'p> {
    /// An engine for `potential` with a neighbour-list skin of `skin` Å (the list is built on first use).
    pub fn new(potential: &'p dyn Potential, skin: f64) -> Engine<'p> {
        Engine {
            potential,
            skin,
            list: None,
            evaluations: 0,
        }
    }

    /// The potential.
    pub fn potential(&self) -> &'p dyn Potential {
        self.potential
    }

    /// Number of `compute` calls so far.
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }

    /// Forget the list; the next evaluation builds a fresh one from the positions it is given.
    pub fn reset_list(&mut self) {
        self.list = None;
    }

    /// The neighbour list, brought up to date for `structure` (built or rebuilt as needed); `None` when the
    /// potential needs none.
    pub fn list_for(&mut self, structure: &Structure) -> Result<Option<&NeighborList>> {
        let Some(needed) = self.potential.neighbor_list() else {
            return Ok(None);
        };
        match &mut self.list {
            Some(list) if list.len() == structure.len() => {
                list.update(structure)?;
            }
            slot => {
                *slot = Some(NeighborList::build(structure, needed.cutoff, self.skin, needed.kind)?);
            }
        }
        Ok(self.list.as_ref())
    }

    /// Evaluate the potential on `structure`.
    pub fn compute(&mut self, structure: &Structure, request: Request) -> Result<Output> {
        let potential = self.potential;
        let list = self.list_for(structure)?;
        let out = potential.compute(structure, list, request)?;
        self.evaluations += 1;
        Ok(out)
    }

    /// E(after) − E(before) of a local change by the potential's local form, or `None` when it has none.
    pub fn energy_change(&mut self, structure: &Structure, change: &Change) -> Result<Option<f64>> {
        let potential = self.potential;
        let Some(list) = self.list_for(structure)? else {
            return Ok(None);
        };
        Ok(potential.energy_change(structure, list, change).transpose()?)
    }

    /// [`Self::energy_change`] with the list used as it stands, without the O(N) rebuild test, for a caller
    /// that knows the positions and the cell are those of the last evaluation through this engine (a run
    /// of swap moves, which change no position). Falls back to [`Self::energy_change`] when there is no
    /// list yet or the number of atoms differs.
    pub fn energy_change_unmoved(&mut self, structure: &Structure, change: &Change) -> Result<Option<f64>> {
        match &self.list {
            Some(list) if list.len() == structure.len() => {
                Ok(self.potential.energy_change(structure, list, change).transpose()?)
            }
            _ => self.energy_change(structure, change),
        }
    }
}
