//! [`Engine`]: a potential with a Verlet-skin neighbour list that is kept between evaluations and rebuilt
//! only when some atom has moved more than half the skin or the cell changed
//! (gbion_atoms::neighbor, Allen & Tildesley 2nd ed. §5.3), and a counter of evaluations.
//!
//! Reproducibility: the order in which a potential sums pairs follows the list, so the bits of a force
//! depend on when the list was last built. [`Engine::reset_list`] rebuilds it from the current positions;
//! the run driver calls it at every checkpoint, in an uninterrupted run and after a resume alike, which makes
//! the continuation a function of the checkpointed state only.
//!
//! Monte Carlo: when the potential offers a stateful evaluator of local energy changes
//! ([`gbion_potentials::LocalEnergy`], e.g. the MTP's cache of per-site moments), the engine keeps it, asks
//! it for ΔE, reports accepted changes to it, and makes it forget its data whenever the list is rebuilt;
//! [`Engine::energy_change`] also has it compare the structure with the configuration it describes (O(N)),
//! so that MD, relaxation or any other change between Monte Carlo batches is noticed. The evaluator's
//! results do not depend on its history, so the reproducibility argument above is unchanged.

use crate::Result;
use gbion_atoms::{NeighborList, Structure};
use gbion_potentials::{Change, LocalEnergy, Output, Potential, Request};

/// A potential and its neighbour list.
pub struct Engine<'p> {
    potential: &'p dyn Potential,
    skin: f64,
    list: Option<NeighborList>,
    evaluations: u64,
    /// The potential's stateful evaluator of local energy changes, when it offers one.
    local: Option<Box<dyn LocalEnergy + 'p>>,
}

impl<'p> Engine<'p> {
    /// An engine for `potential` with a neighbour-list skin of `skin` Å (the list is built on first use).
    pub fn new(potential: &'p dyn Potential, skin: f64) -> Engine<'p> {
        Engine {
            potential,
            skin,
            list: None,
            evaluations: 0,
            local: potential.local_energy(),
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
        self.forget_local();
    }

    fn forget_local(&mut self) {
        if let Some(local) = &mut self.local {
            local.invalidate();
        }
    }

    /// The neighbour list, brought up to date for `structure` (built or rebuilt as needed); `None` when the
    /// potential needs none.
    pub fn list_for(&mut self, structure: &Structure) -> Result<Option<&NeighborList>> {
        let Some(needed) = self.potential.neighbor_list() else {
            return Ok(None);
        };
        let rebuilt = match &mut self.list {
            Some(list) if list.len() == structure.len() => list.update(structure)?,
            slot => {
                *slot = Some(NeighborList::build(structure, needed.cutoff, self.skin, needed.kind)?);
                true
            }
        };
        if rebuilt {
            self.forget_local();
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

    /// E(after) − E(before) of a local change by the potential's local form (its stateful evaluator when it
    /// has one, brought in line with `structure` first), or `None` when it has none.
    pub fn energy_change(&mut self, structure: &Structure, change: &Change) -> Result<Option<f64>> {
        if self.list_for(structure)?.is_none() {
            return Ok(None);
        }
        if let Some(local) = &mut self.local {
            local.sync(structure);
        }
        self.listed_energy_change(structure, change)
    }

    /// [`Self::energy_change`] with the list and the evaluator used as they stand, without the O(N) tests,
    /// for a caller that knows the positions and the cell are those of the last call through this engine
    /// and the elements too, except for changes reported through [`Self::accepted`] (a run of swap moves).
    /// Falls back to [`Self::energy_change`] when there is no list yet or the number of atoms differs.
    pub fn energy_change_unmoved(&mut self, structure: &Structure, change: &Change) -> Result<Option<f64>> {
        match &self.list {
            Some(list) if list.len() == structure.len() => self.listed_energy_change(structure, change),
            _ => self.energy_change(structure, change),
        }
    }

    /// Report that `change` was applied to the structure, now `structure` (an accepted Monte Carlo move), so
    /// the stateful evaluator updates its data.
    pub fn accepted(&mut self, structure: &Structure, change: &Change) {
        match (&mut self.local, &self.list) {
            (Some(local), Some(list)) if list.len() == structure.len() => local.accepted(structure, list, change),
            (Some(local), _) => local.invalidate(),
            (None, _) => {}
        }
    }

    /// ΔE with the current list (present).
    fn listed_energy_change(&mut self, structure: &Structure, change: &Change) -> Result<Option<f64>> {
        let Some(list) = &self.list else {
            return Ok(None);
        };
        Ok(match &mut self.local {
            Some(local) => Some(local.energy_change(structure, list, change)?),
            None => self.potential.energy_change(structure, list, change).transpose()?,
        })
    }
}
