//! The TOML parameter file of a rigid-ion model: charges per species, pair terms per species pair, the
//! cutoff treatment and the Coulomb method. Unknown keys are errors; every error names the file, the line
//! and the key.
//!
//! ```toml
//! name = "example"
//! citation = "where the numbers come from"
//! cutoff = 10.0              # Å, range of the pair terms
//! cutoff_mode = "shift"      # "cut" (default) | "shift" | "taper"
//! taper_inner = 8.0          # Å, start of the taper (only with "taper")
//!
//! [coulomb]
//! method = "ewald"           # "ewald" | "dsf" | "none"
//! accuracy = 1e-6            # ewald: relative RMS force accuracy (as LAMMPS kspace_style ewald)
//! cutoff = 10.0              # Å, real-space (ewald) or DSF cutoff; default: the pair cutoff
//! # alpha = 0.2              # dsf: damping (1/Å)
//!
//! [charges]                  # e
//! Sr = 2.0
//! Ti = 4.0
//! O = -2.0
//!
//! [[pair]]
//! species = ["Sr", "O"]
//! buckingham = { a = 1769.51, rho = 0.319894, c = 0.0 }   # eV, Å, eV·Å⁶
//! # lennard_jones = { epsilon = 0.01, sigma = 3.0 }        # eV, Å
//! # morse = { d0 = 0.02, alpha = 1.8, r0 = 2.9 }           # eV, 1/Å, Å
//! # repulsion = { b = 1.0 }                                # B/r¹², eV·Å¹²
//! ```
//! A pair may list several forms; they are summed. Pairs not listed do not interact except by Coulomb.
//! Bounds that keep a run's memory and time finite: cutoffs at most [`MAX_CUTOFF`] Å, charges within
//! ±[`MAX_CHARGE`] e, Ewald accuracy at least [`MIN_ACCURACY`] (and an Ewald sum that would scan more than
//! 1e8 wave vectors is refused when evaluated).
//!
//! # Shipped sets
//!
//! Embedded from `crates/gbion-potentials/params/` and reached as [`super::builtin`]`(NAME)` or, on the
//! command line, `gbion eval --potential builtin:NAME`. Each file carries its citation, functional form and
//! where its numbers were read.
//!
//! | name | source | species | checked against |
//! | --- | --- | --- | --- |
//! | `pedone2006` | Pedone et al., J. Phys. Chem. B 110, 11780 (2006): partial charges (0.6 × formal), Morse + C/r¹² per cation–O pair and O–O, Ewald, 15 Å | Li, Ca, Sr, Ti, Zr, O (**not** La, Ta) | CaO lattice constant 4.7748 Å and energy −3771.5568 eV / 512 atoms of the LAMMPS `pair_style pedone` examples (gbion: 4.77484 Å, −3771.5563 eV); cubic SrTiO3 relaxes to a = 3.92263 Å |
//! | `du_teter` | Du/Teter partial-charge Buckingham: Deng & Du, J. Am. Ceram. Soc. 102, 2482 (2019) (Li, Sr, Zr, O) and the original Teter La, Ti; table also in Hu et al., npj Comput. Mater. 6, 25 (2020); A exp(−r/ρ) − C/r⁶ per cation–O pair and O–O, Ewald, 15 Å (no Du/Teter core below r0) | Li, Sr, La, Ti, Zr, O (**not** Ta) | the core parameters (B, n, D, r0) printed with it are the Buckingham value, slope and curvature at r0 (La–O, Ti–O to < 1e-5); Li2O, SrO, SrTiO3 relax to 4.50575, 5.13858, 3.92058 Å |
//! | `lstz_toy` | none: a gbion demonstration model (formal charges, Buckingham terms of the Lewis & Catlow kind tapered between 4 and 5 Å, DSF Coulomb α = 0.45 1/Å, 5 Å: short enough for a 5 Å MTP to learn), **not published, not fitted** | Li, Sr, Ta, Zr, O | nothing; it is the cheap exact oracle of the learning examples and tests, and the `gbion mcmd --example` model |
//!
//! No stored published rigid-ion set covering Ta (needed for LSTZ0.75) was found; both sets refuse
//! structures containing it (error naming the atom). The softBV bond-valence site-energy table (Morse
//! D0, Rmin, α per cation–anion pair, Ta⁵⁺–O included; stored copies in shuhebing/cavd and
//! FALL-ML/materials-discovery, no citation in either) is not a crystal force field: it has no
//! anion–anion term and describes one mobile ion in a fixed framework, so it is not shipped.

use super::pair::{CutoffMode, PairForm, PairTerm};
use crate::{Error, Result};
use gbion_atoms::Element;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: Option<String>,
    citation: Option<String>,
    cutoff: Spanned<f64>,
    #[serde(default)]
    cutoff_mode: Option<Spanned<String>>,
    taper_inner: Option<Spanned<f64>>,
    coulomb: Spanned<CoulombTable>,
    charges: Spanned<BTreeMap<String, f64>>,
    #[serde(default)]
    pair: Vec<PairTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CoulombTable {
    method: String,
    accuracy: Option<f64>,
    cutoff: Option<f64>,
    alpha: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairTable {
    species: Spanned<Vec<String>>,
    buckingham: Option<Spanned<Buckingham>>,
    lennard_jones: Option<Spanned<LennardJones>>,
    morse: Option<Spanned<Morse>>,
    repulsion: Option<Spanned<Repulsion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Buckingham {
    a: f64,
    rho: f64,
    c: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LennardJones {
    epsilon: f64,
    sigma: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Morse {
    d0: f64,
    alpha: f64,
    r0: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Repulsion {
    b: f64,
}

/// The Coulomb method of a model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CoulombSpec {
    /// No Coulomb term.
    None,
    /// Ewald summation at relative accuracy `accuracy` with real-space cutoff `cutoff` (Å).
    Ewald { accuracy: f64, cutoff: f64 },
    /// Damped shifted force with damping `alpha` (1/Å) and cutoff `cutoff` (Å).
    Dsf { alpha: f64, cutoff: f64 },
}

/// A parsed and checked parameter file.
#[derive(Clone, Debug)]
pub struct Parameters {
    pub name: String,
    pub citation: Option<String>,
    /// Species, ordered by atomic number; the type indices of the model.
    pub species: Vec<Element>,
    /// Charge (e) of each species.
    pub charges: Vec<f64>,
    /// (type a, type b, term) for each listed pair, a ≤ b.
    pub pairs: Vec<(usize, usize, PairTerm)>,
    pub coulomb: CoulombSpec,
}

/// Line (1-based) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parse the TOML `text` of a parameter file called `source_name` (for messages).
pub fn parse(text: &str, source_name: &str) -> Result<Parameters> {
    let file: File = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |span| line_of(text, span.start));
        Error::parse(source_name, line, e.message().trim().to_string())
    })?;
    let at = |offset: usize, message: String| Error::parse(source_name, line_of(text, offset), message);
    let cutoff = *file.cutoff.get_ref();
    check_cutoff("cutoff", cutoff).map_err(|message| at(file.cutoff.span().start, message))?;
    let mode = cutoff_mode(&file, cutoff, &at)?;
    let coulomb = coulomb(&file.coulomb, cutoff, &at)?;
    let charges_offset = file.charges.span().start;
    let mut species = Vec::new();
    for (symbol, &charge) in file.charges.get_ref() {
        let element = Element::from_symbol(symbol)
            .map_err(|_| at(charges_offset, format!("charges: unknown element '{symbol}'")))?;
        if !(-MAX_CHARGE..=MAX_CHARGE).contains(&charge) {
            return Err(at(
                charges_offset,
                format!("charges.{symbol}: must be a number of e within ±{MAX_CHARGE}, got {charge}"),
            ));
        }
        species.push((element, charge));
    }
    species.sort_by_key(|(e, _)| e.number());
    let elements: Vec<Element> = species.iter().map(|(e, _)| *e).collect();
    let mut pairs: Vec<(usize, usize, PairTerm)> = Vec::new();
    for entry in &file.pair {
        let offset = entry.species.span().start;
        let names = entry.species.get_ref();
        let [first, second] = names.as_slice() else {
            return Err(at(
                offset,
                format!("pair.species: expected two elements, got {}", names.len()),
            ));
        };
        let type_of = |symbol: &str| {
            let element = Element::from_symbol(symbol)
                .map_err(|_| at(offset, format!("pair.species: unknown element '{symbol}'")))?;
            elements.iter().position(|&e| e == element).ok_or_else(|| {
                at(
                    offset,
                    format!("pair.species: '{symbol}' has no charge in [charges] (give it 0.0 if neutral)"),
                )
            })
        };
        let (a, b) = {
            let (a, b) = (type_of(first)?, type_of(second)?);
            (a.min(b), a.max(b))
        };
        if pairs.iter().any(|(pa, pb, _)| (*pa, *pb) == (a, b)) {
            return Err(at(offset, format!("pair.species: {first}-{second} is given twice")));
        }
        let forms = pair_forms(entry, &at)?;
        if forms.is_empty() {
            return Err(at(
                offset,
                format!("pair {first}-{second}: no form (buckingham, lennard_jones, morse, repulsion)"),
            ));
        }
        pairs.push((a, b, PairTerm::new(forms, cutoff, mode)));
    }
    Ok(Parameters {
        name: file.name.unwrap_or_else(|| source_name.to_string()),
        citation: file.citation,
        charges: species.iter().map(|(_, q)| *q).collect(),
        species: elements,
        pairs,
        coulomb,
    })
}

type At<'a> = dyn Fn(usize, String) -> Error + 'a;

fn cutoff_mode(file: &File, cutoff: f64, at: &At) -> Result<CutoffMode> {
    let inner = file.taper_inner.as_ref();
    let mode = match file
        .cutoff_mode
        .as_ref()
        .map(|m| (m.get_ref().as_str(), m.span().start))
    {
        None | Some(("cut", _)) => CutoffMode::Cut,
        Some(("shift", _)) => CutoffMode::Shift,
        Some(("taper", offset)) => {
            let inner = inner.ok_or_else(|| at(offset, "taper_inner: needed with cutoff_mode = \"taper\"".into()))?;
            let value = *inner.get_ref();
            if !(value > 0.0 && value < cutoff) {
                return Err(at(
                    inner.span().start,
                    format!("taper_inner: must lie in (0, cutoff = {cutoff}), got {value}"),
                ));
            }
            return Ok(CutoffMode::Taper { inner: value });
        }
        Some((other, offset)) => {
            return Err(at(
                offset,
                format!("cutoff_mode: expected \"cut\", \"shift\" or \"taper\", got \"{other}\""),
            ));
        }
    };
    match inner {
        Some(inner) => Err(at(
            inner.span().start,
            "taper_inner: only allowed with cutoff_mode = \"taper\"".into(),
        )),
        None => Ok(mode),
    }
}

/// Longest cutoff accepted (Å): neighbour lists grow as its cube and the Coulomb tables linearly.
pub const MAX_CUTOFF: f64 = 100.0;

/// Smallest Ewald accuracy accepted (relative RMS force error; finer is below double-precision rounding).
pub const MIN_ACCURACY: f64 = 1e-15;

/// Largest ionic charge accepted (e; formal charges reach +8).
pub const MAX_CHARGE: f64 = 10.0;

/// The message for a cutoff `name` = `value` that is not a length in (0, [`MAX_CUTOFF`]] Å.
fn check_cutoff(name: &str, value: f64) -> std::result::Result<(), String> {
    if value > 0.0 && value <= MAX_CUTOFF {
        Ok(())
    } else {
        Err(format!("{name}: must be a length in (0, {MAX_CUTOFF}] Å, got {value}"))
    }
}

fn coulomb(table: &Spanned<CoulombTable>, pair_cutoff: f64, at: &At) -> Result<CoulombSpec> {
    let offset = table.span().start;
    let table = table.get_ref();
    let cutoff = table.cutoff.unwrap_or(pair_cutoff);
    check_cutoff("coulomb.cutoff", cutoff).map_err(|message| at(offset, message))?;
    let forbid = |key: &str, value: Option<f64>| match value {
        Some(_) => Err(at(
            offset,
            format!("coulomb.{key}: not used by method \"{}\"", table.method),
        )),
        None => Ok(()),
    };
    match table.method.as_str() {
        "none" => {
            forbid("accuracy", table.accuracy)?;
            forbid("alpha", table.alpha)?;
            forbid("cutoff", table.cutoff)?;
            Ok(CoulombSpec::None)
        }
        "ewald" => {
            forbid("alpha", table.alpha)?;
            let accuracy = table
                .accuracy
                .ok_or_else(|| at(offset, "coulomb.accuracy: needed with method = \"ewald\"".into()))?;
            if !((MIN_ACCURACY..1.0).contains(&accuracy)) {
                return Err(at(
                    offset,
                    format!("coulomb.accuracy: must lie in [{MIN_ACCURACY:e}, 1), got {accuracy}"),
                ));
            }
            Ok(CoulombSpec::Ewald { accuracy, cutoff })
        }
        "dsf" => {
            forbid("accuracy", table.accuracy)?;
            let alpha = table
                .alpha
                .ok_or_else(|| at(offset, "coulomb.alpha: needed with method = \"dsf\"".into()))?;
            if !(alpha.is_finite() && alpha >= 0.0) {
                return Err(at(offset, format!("coulomb.alpha: must be ≥ 0 (1/Å), got {alpha}")));
            }
            Ok(CoulombSpec::Dsf { alpha, cutoff })
        }
        other => Err(at(
            offset,
            format!("coulomb.method: expected \"ewald\", \"dsf\" or \"none\", got \"{other}\""),
        )),
    }
}

fn positive(value: f64) -> bool {
    value.is_finite() && value > 0.0
}

fn pair_forms(entry: &PairTable, at: &At) -> Result<Vec<PairForm>> {
    let mut forms = Vec::new();
    if let Some(b) = &entry.buckingham {
        let v = b.get_ref();
        if !(positive(v.rho) && v.a.is_finite() && v.c.is_finite()) {
            return Err(at(b.span().start, "buckingham: needs finite a, c and rho > 0".into()));
        }
        forms.push(PairForm::Buckingham {
            a: v.a,
            rho: v.rho,
            c: v.c,
        });
    }
    if let Some(lj) = &entry.lennard_jones {
        let v = lj.get_ref();
        if !(positive(v.sigma) && v.epsilon.is_finite()) {
            return Err(at(
                lj.span().start,
                "lennard_jones: needs finite epsilon and sigma > 0".into(),
            ));
        }
        forms.push(PairForm::LennardJones {
            epsilon: v.epsilon,
            sigma: v.sigma,
        });
    }
    if let Some(m) = &entry.morse {
        let v = m.get_ref();
        if !(v.d0.is_finite() && v.alpha.is_finite() && v.r0.is_finite()) {
            return Err(at(m.span().start, "morse: d0, alpha and r0 must be finite".into()));
        }
        forms.push(PairForm::Morse {
            d0: v.d0,
            alpha: v.alpha,
            r0: v.r0,
        });
    }
    if let Some(r) = &entry.repulsion {
        let v = r.get_ref();
        if !v.b.is_finite() {
            return Err(at(r.span().start, "repulsion: b must be finite".into()));
        }
        forms.push(PairForm::InverseTwelve { b: v.b });
    }
    Ok(forms)
}
