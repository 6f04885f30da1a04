//! Monte Carlo swaps with the MTP's stateful evaluator (cached basic moments, gbion_potentials::LocalEnergy)
//! on an LSTZ0.75-like cell of 135 atoms (the benchmark cells' construction), interleaved with position
//! changes standing in for MD segments: the run makes the same moves, bit for bit, whether attempts come
//! one by one (the engine checks the structure against the cache at every attempt) or in batches (once per
//! batch), and the same accept/reject decisions as with the stateless `Potential::energy_change`; the
//! energy accumulated from the ΔE equals a full evaluation.

use crate::cells::{element, lstz};
use gbion_atoms::{NeighborList, Structure};
use gbion_dynamics::Engine;
use gbion_dynamics::mc::{MonteCarlo, MoveKind, MoveStats};
use gbion_potentials::mtp::Mtp;
use gbion_potentials::{Change, ListRequest, Output, Potential, Request, evaluate};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::path::Path;

pub fn mtp() -> Mtp {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../gbion-potentials/tests/fixtures/mtp/potentials/l16_5sp.mtp");
    let species = ["Li", "Sr", "Ta", "Zr", "O"].map(element).to_vec();
    Mtp::read(&path).unwrap().with_species(species).unwrap()
}

/// The MTP without its stateful evaluator: Monte Carlo uses `Potential::energy_change`.
struct Stateless(Mtp);

impl Potential for Stateless {
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn species(&self) -> Option<&[gbion_atoms::Element]> {
        self.0.species()
    }
    fn neighbor_list(&self) -> Option<ListRequest> {
        self.0.neighbor_list()
    }
    fn compute(
        &self,
        structure: &Structure,
        list: Option<&NeighborList>,
        request: Request,
    ) -> gbion_potentials::Result<Output> {
        self.0.compute(structure, list, request)
    }
    fn energy_change(
        &self,
        structure: &Structure,
        list: &NeighborList,
        change: &Change,
    ) -> Option<gbion_potentials::Result<f64>> {
        self.0.energy_change(structure, list, change)
    }
}

/// Six rounds of 40 Li ↔ Sr and Ta ↔ Zr swap attempts at 3000 K, each followed by a nudge of all positions
/// (≤ 0.03 Å, as an MD segment would) and a full evaluation through the engine.
fn run(potential: &dyn Potential, batched: bool) -> (Structure, f64, Vec<MoveStats>) {
    let mut s = lstz([3, 3, 3]);
    let moves = vec![
        MoveKind::Swap {
            a: element("Li"),
            b: element("Sr"),
        },
        MoveKind::Swap {
            a: element("Ta"),
            b: element("Zr"),
        },
    ];
    let mut engine = Engine::new(potential, 0.5);
    let mut energy = engine.compute(&s, Request::ENERGY).unwrap().energy;
    let mut mc = MonteCarlo::new(moves, 3000.0).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let mut nudges = Xoshiro256PlusPlus::seed_from_u64(6);
    for _ in 0..6 {
        if batched {
            mc.attempts(40, &mut s, &mut energy, &mut engine, &mut rng).unwrap();
        } else {
            for _ in 0..40 {
                mc.attempt(&mut s, &mut energy, &mut engine, &mut rng).unwrap();
            }
        }
        let fresh = evaluate(potential, &s, Request::ENERGY).unwrap().energy;
        assert!(
            (fresh - energy).abs() < 1e-9 * fresh.abs(),
            "accumulated {energy} vs full {fresh}"
        );
        for x in s.positions.iter_mut().flatten() {
            *x += nudges.random_range(-0.03..0.03);
        }
        energy = engine.compute(&s, Request::ENERGY).unwrap().energy;
    }
    (s, energy, mc.stats)
}

#[test]
fn cached_mtp_swaps_are_batch_independent_and_decide_as_the_stateless_form() {
    let potential = mtp();
    let (single, e_single, stats_single) = run(&potential, false);
    let (batch, e_batch, stats_batch) = run(&potential, true);
    assert_eq!(stats_single, stats_batch);
    assert!(stats_batch.iter().all(|s| s.accepted > 10), "{stats_batch:?}");
    assert_eq!(single.elements, batch.elements);
    assert_eq!(e_single.to_bits(), e_batch.to_bits());
    let stateless = Stateless(mtp());
    let (plain, e_plain, stats_plain) = run(&stateless, true);
    assert_eq!(stats_plain, stats_batch);
    assert_eq!(plain.elements, batch.elements);
    assert!((e_plain - e_batch).abs() < 1e-9 * e_batch.abs());
}
