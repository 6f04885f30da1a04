//! Potentials named by a specification string, as `gbion eval --potential`, the `potential` key of the
//! dynamics inputs and the built-in oracle of active learning take them: an MLIP `.mtp` file (with the
//! element of each type index), a rigid-ion `.toml` parameter file, `builtin:NAME` for a shipped rigid-ion
//! set, or `cmd:COMMAND` for an external command (the oracle protocol, [`crate::external`]).

use crate::external::ExternalCommand;
use crate::mtp::Mtp;
use crate::rigid_ion::{self, RigidIon};
use crate::{Error, Potential, Result};
use gbion_atoms::Element;
use std::path::Path;
use std::time::Duration;

/// The potential named by `spec`. `species` gives the element of each type index of an `.mtp` file (which
/// carries no element names); `timeout` limits each run of a `cmd:` command.
pub fn load(spec: &str, species: Option<Vec<Element>>, timeout: Option<Duration>) -> Result<Box<dyn Potential>> {
    if let Some(command) = spec.strip_prefix("cmd:") {
        let mut oracle = ExternalCommand::new(command);
        if let Some(t) = timeout {
            oracle = oracle.with_timeout(t);
        }
        return Ok(Box::new(oracle));
    }
    if let Some(name) = spec.strip_prefix("builtin:") {
        let text = rigid_ion::builtin(name).ok_or_else(|| {
            let names: Vec<_> = rigid_ion::builtin_names().collect();
            let shipped = if names.is_empty() {
                "none yet".into()
            } else {
                names.join(", ")
            };
            Error::Invalid(format!("no shipped parameter set {name:?} (shipped: {shipped})"))
        })?;
        return Ok(Box::new(RigidIon::from_toml(text, spec)?));
    }
    let path = Path::new(spec);
    match path.extension().and_then(|e| e.to_str()) {
        Some("mtp") => {
            // The file first, so that a missing or malformed file is reported as such.
            let mtp = Mtp::read(path)?;
            let species = species.ok_or_else(|| {
                Error::Invalid(format!(
                    "{spec}: MLIP .mtp files carry no element names; give them with --species (type order)"
                ))
            })?;
            Ok(Box::new(mtp.with_species(species)?))
        }
        Some("toml") => Ok(Box::new(RigidIon::from_file(path)?)),
        _ => Err(Error::Invalid(format!(
            "unknown potential {spec:?}: expected a .mtp file, a .toml file, builtin:NAME or cmd:COMMAND"
        ))),
    }
}
