//! MD speed (issue 7): velocity-Verlet NVE steps per second on the 10,080-atom SrTiO3 cell of
//! gbion-potentials' `benches/rigid_ion.rs` (12 × 12 × 14 cubic cells, a = 3.905 Å, atoms displaced by up to
//! 0.1 Å), Buckingham + DSF (α 0.2 1/Å) and Buckingham + Ewald (relative accuracy 1e-5), r_c 10 Å,
//! Δt 1 fs, Maxwell–Boltzmann velocities at 300 K, through [`Engine`] with a 2 Å Verlet skin (list rebuilt
//! when an atom has moved more than 1 Å, as LAMMPS `neighbor 2.0 bin` + `neigh_modify every 1 delay 0
//! check yes`). One iteration is `STEPS` steps of the same trajectory; run with `RAYON_NUM_THREADS=1`.
//! `force_call_*` times one energy + force evaluation through the same engine at the final positions
//! (list up to date), and `zero_potential_engine_overhead` steps with a potential that returns zeros on the
//! same list (integrator, list test, rebuilds as atoms fly freely, output vectors).
//!
//! The LAMMPS input for the same cell and settings: `benches/lammps/md_dsf.in` (see the README there).

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
#[path = "../../gbion-potentials/benches/cells/mod.rs"]
mod cells;

use cells::{SRTIO3_PAIRS as PAIRS, srtio3_supercell as supercell};
use gbion_atoms::{Element, ListKind, NeighborList, Structure};
use gbion_dynamics::velocities::maxwell_boltzmann;
use gbion_dynamics::{Engine, Integrator, MdState, Thermostat};
use gbion_potentials::rigid_ion::RigidIon;
use gbion_potentials::{ListRequest, Output, Potential, Request};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Neighbour-list skin (Å), LAMMPS `neighbor 2.0 bin`.
const SKIN: f64 = 2.0;
/// Time step (fs).
const DT: f64 = 1.0;

/// A potential that asks for the same 10 Å half list and returns zero energy and forces: a step with it
/// costs what the integrator and the engine (list test, rebuilds, output vectors) add to a force call.
struct Zero;

impl Potential for Zero {
    fn describe(&self) -> String {
        "zero".into()
    }
    fn species(&self) -> Option<&[Element]> {
        None
    }
    fn neighbor_list(&self) -> Option<ListRequest> {
        Some(ListRequest {
            cutoff: 10.0,
            kind: ListKind::Half,
        })
    }
    fn compute(
        &self,
        structure: &Structure,
        _list: Option<&NeighborList>,
        request: Request,
    ) -> gbion_potentials::Result<Output> {
        Ok(Output {
            energy: 0.0,
            forces: request.forces.then(|| vec![[0.0; 3]; structure.len()]),
            ..Output::default()
        })
    }
}

/// Criterion's positional filter (the first argument that is neither an option nor an option's value), so
/// that `cargo bench --bench md -- dsf` does not set up the Ewald model.
fn name_filter() -> Option<String> {
    const WITH_VALUE: [&str; 14] = [
        "--warm-up-time",
        "--measurement-time",
        "--sample-size",
        "--save-baseline",
        "--baseline",
        "--load-baseline",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--nresamples",
        "--output-format",
        "--color",
        "--plotting-backend",
        "--profile-time",
    ];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if WITH_VALUE.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            return Some(a);
        }
    }
    None
}

fn bench(c: &mut Criterion) {
    let mut atoms = supercell();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4928459);
    maxwell_boltzmann(&mut atoms, 300.0, true, &mut rng).unwrap();
    let models = [
        ("buckingham_dsf", "[coulomb]\nmethod = \"dsf\"\nalpha = 0.2\n", 10u64),
        (
            "buckingham_ewald_1e-5",
            "[coulomb]\nmethod = \"ewald\"\naccuracy = 1e-5\n",
            4,
        ),
    ];
    let filter = name_filter();
    let mut group = c.benchmark_group(format!("md_nve_{}_atoms", atoms.len()));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    for (name, coulomb, steps) in models {
        if filter
            .as_deref()
            .is_some_and(|f| !name.contains(f) && !f.contains(name))
        {
            continue;
        }
        let model = RigidIon::from_toml(&format!("{PAIRS}{coulomb}"), name).unwrap();
        let mut engine = Engine::new(&model, SKIN);
        let mut state = MdState::new(atoms.clone(), &mut engine, false).unwrap();
        let mut integrator = Integrator::new(DT, Thermostat::None);
        eprintln!(
            "{name}: start T = {:.0} K, E_pot = {:.2} eV",
            integrator.temperature(&state),
            state.potential_energy
        );
        group.throughput(Throughput::Elements(steps));
        group.bench_function(format!("{name}_{steps}_steps"), |b| {
            b.iter(|| {
                for _ in 0..steps {
                    integrator.step(&mut state, &mut engine, &mut rng, false).unwrap();
                }
            })
        });
        eprintln!(
            "{name}: after {} steps T = {:.0} K, E_pot = {:.2} eV, conserved = {:.2} eV",
            state.step,
            integrator.temperature(&state),
            state.potential_energy,
            integrator.conserved(&state)
        );
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("force_call_{name}"), |b| {
            b.iter(|| engine.compute(&state.structure, Request::FORCES).unwrap())
        });
    }
    if filter
        .as_deref()
        .is_none_or(|f| "zero_potential_engine_overhead".contains(f))
    {
        let mut engine = Engine::new(&Zero, SKIN);
        let mut state = MdState::new(atoms.clone(), &mut engine, false).unwrap();
        let mut integrator = Integrator::new(DT, Thermostat::None);
        group.throughput(Throughput::Elements(100));
        group.bench_function("zero_potential_engine_overhead_100_steps", |b| {
            b.iter(|| {
                for _ in 0..100 {
                    integrator.step(&mut state, &mut engine, &mut rng, false).unwrap();
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
