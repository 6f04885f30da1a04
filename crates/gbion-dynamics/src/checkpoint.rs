//! Checkpoints: the complete state of a run, written atomically, from which `--resume` continues so that
//! the outputs are bit-identical to an uninterrupted run.
//!
//! Format (version [`VERSION`]): one JSON object, `checkpoint.json` in the output directory, written to a
//! temporary file beside it, synced and renamed, so a kill leaves the previous checkpoint or the new one,
//! never half of one. Every floating-point number is stored as its IEEE-754 bits (`u64`), so nothing is
//! lost to decimal printing. Keys: `version`, `kind` (`md` | `mcmd`), `seed`, `step`, `timestep`,
//! `elements` (atomic numbers), `masses`, `positions` (unwrapped), `velocities`, `charges`, `cell`, `pbc`,
//! `vacancies`, `thermostat` (kind and state: Langevin bath work, Nosé–Hoover ξ and v_ξ), `rng` (Xoshiro256++
//! state), `mc_stats` (attempted/accepted per move), `offsets` (byte lengths of `thermo.csv`,
//! `thermo.jsonl` and the trajectory at the checkpoint). Per-atom tags and other frame info come from the
//! input structure, which the resumed run reads again. A reader refuses any other version.

/// Serde of an `f64` as its IEEE-754 bits (`u64`), so a checkpoint restores every bit.
pub mod exact {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(x.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(f64::from_bits(u64::deserialize(d)?))
    }
}

/// Serde of a `Vec<f64>` as IEEE-754 bits.
pub mod exact_vec {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(x.iter().map(|v| v.to_bits()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<u64>::deserialize(d)?.into_iter().map(f64::from_bits).collect())
    }
}

use crate::integrate::Thermostat;
use crate::mc::MoveStats;
use crate::{Error, Result};
use gbion_atoms::{Cell, Element, Structure};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// The checkpoint format version written by this build.
pub const VERSION: u32 = 1;

/// Byte lengths of the output files at the checkpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offsets {
    pub thermo_csv: u64,
    pub thermo_jsonl: u64,
    pub trajectory: u64,
}

/// Everything a run needs to continue exactly (floating-point numbers as IEEE-754 bits).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// `md` or `mcmd`.
    pub kind: String,
    pub seed: u64,
    pub step: u64,
    /// Δt of the run (fs); a resumed run must use the same.
    #[serde(with = "exact")]
    pub timestep: f64,
    /// Atomic numbers (swaps change them).
    pub elements: Vec<u8>,
    #[serde(with = "exact_vec")]
    pub masses: Vec<f64>,
    /// Unwrapped positions, flattened (Å).
    #[serde(with = "exact_vec")]
    pub positions: Vec<f64>,
    /// Flattened (Å/fs).
    #[serde(with = "exact_vec")]
    pub velocities: Vec<f64>,
    /// Charges (e) when the structure has them (empty otherwise).
    #[serde(with = "exact_vec")]
    pub charges: Vec<f64>,
    /// Cell matrix rows, flattened (Å).
    #[serde(with = "exact_vec")]
    pub cell: Vec<f64>,
    pub pbc: [bool; 3],
    /// Vacant sites, flattened (Å).
    #[serde(with = "exact_vec")]
    pub vacancies: Vec<f64>,
    pub thermostat: Thermostat,
    pub rng: Xoshiro256PlusPlus,
    pub mc_stats: Vec<MoveStats>,
    pub offsets: Offsets,
}

impl Checkpoint {
    /// Capture a structure's dynamic state.
    #[allow(clippy::too_many_arguments)]
    pub fn capture(
        kind: &str,
        seed: u64,
        step: u64,
        timestep: f64,
        structure: &Structure,
        thermostat: &Thermostat,
        rng: &Xoshiro256PlusPlus,
        mc_stats: &[MoveStats],
        offsets: Offsets,
    ) -> Checkpoint {
        let flat = |v: &[[f64; 3]]| v.iter().flatten().copied().collect::<Vec<f64>>();
        Checkpoint {
            version: VERSION,
            kind: kind.to_string(),
            seed,
            step,
            timestep,
            elements: structure.elements.iter().map(|e| e.number()).collect(),
            masses: structure.masses.clone(),
            positions: flat(&structure.positions),
            velocities: structure.velocities.as_deref().map(flat).unwrap_or_default(),
            charges: structure.charges.clone().unwrap_or_default(),
            cell: flat(structure.cell.matrix()),
            pbc: structure.cell.pbc(),
            // Malformed vacancy info stops a run with hops before any checkpoint; an MD run keeps none.
            vacancies: flat(&crate::mc::vacancies(structure).unwrap_or_default()),
            thermostat: thermostat.clone(),
            rng: rng.clone(),
            mc_stats: mc_stats.to_vec(),
            offsets,
        }
    }

    /// Write atomically (temporary file beside `path`, then rename).
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut tmp = gbion_atoms::io::temp_file_beside(path).map_err(Error::io(path))?;
        {
            let mut out = std::io::BufWriter::new(tmp.as_file_mut());
            serde_json::to_writer(&mut out, self).map_err(|e| Error::Invalid(format!("checkpoint: {e}")))?;
            out.write_all(b"\n").map_err(Error::io(path))?;
            out.flush().map_err(Error::io(path))?;
        }
        tmp.as_file().sync_all().map_err(Error::io(path))?;
        tmp.persist(path).map_err(|e| Error::io(path)(e.error))?;
        Ok(())
    }

    /// Read and check the version.
    pub fn read(path: &Path) -> Result<Checkpoint> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        let bad = |message: String| Error::Checkpoint {
            path: path.to_path_buf(),
            message,
        };
        let version: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        match version.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => return Err(bad(format!("format version {v}, this gbion reads version {VERSION}"))),
            None => return Err(bad("no format version".into())),
        }
        serde_json::from_value(version).map_err(|e| bad(e.to_string()))
    }

    /// Put the checkpointed state into `structure` (the input structure of the same run).
    pub fn restore_into(&self, structure: &mut Structure, path: &Path) -> Result<()> {
        let n = structure.len();
        let bad = |message: String| Error::Checkpoint {
            path: path.to_path_buf(),
            message,
        };
        if self.elements.len() != n || self.positions.len() != 3 * n || self.velocities.len() != 3 * n {
            return Err(bad(format!(
                "it holds {} atoms, the input structure {n}",
                self.elements.len()
            )));
        }
        let triples = |v: &[f64]| v.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect::<Vec<_>>();
        structure.elements = self
            .elements
            .iter()
            .map(|&z| Element::from_number(z as usize))
            .collect::<std::result::Result<_, _>>()?;
        structure.masses = self.masses.clone();
        structure.positions = triples(&self.positions);
        structure.velocities = Some(triples(&self.velocities));
        if !self.charges.is_empty() {
            structure.charges = Some(self.charges.clone());
        }
        let m = triples(&self.cell);
        structure.cell = Cell::new([m[0], m[1], m[2]], self.pbc)?;
        if !self.vacancies.is_empty() || structure.info.contains_key("vacancies") {
            crate::mc::set_vacancies(structure, &triples(&self.vacancies));
        }
        Ok(())
    }
}
