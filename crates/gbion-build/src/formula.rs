//! Perovskite ABO3 formulas with mixed and vacant sites: parsing (`Li0.375Sr0.4375Va0.1875 Ta0.75Zr0.25 O3`,
//! or TOML), exact rational occupancies, formal oxidation states and the charge balance, and the integer
//! species counts of a supercell (exact, with the smallest supercell that makes them integral, or rounded
//! with the deviation reported).
//!
//! Occupancies are kept as exact fractions: a decimal such as 0.4375 is 7/16, so "LSTZ0.75 needs 16 A
//! sites" is the least common denominator of its occupancies, not a floating-point guess.

use crate::{Error, Result};
use gbion_atoms::{Element, SiteKind};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The symbol of a vacant site in formulas.
pub const VACANCY: &str = "Va";

/// A non-negative exact fraction `num / den` (den > 0, lowest terms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fraction {
    pub num: i64,
    pub den: i64,
}

pub fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.abs() } else { gcd(b, a % b) }
}

pub fn lcm(a: i64, b: i64) -> i64 {
    a / gcd(a, b) * b
}

impl Fraction {
    pub fn new(num: i64, den: i64) -> Fraction {
        let g = gcd(num, den).max(1);
        Fraction {
            num: num / g,
            den: den / g,
        }
    }

    /// Parse a plain decimal (`3`, `0.4375`, `.5`) exactly; at most 9 decimals.
    pub fn parse_decimal(text: &str) -> Option<Fraction> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits_ok(int) || !digits_ok(frac) || frac.len() > 9 {
            return None;
        }
        let den = 10i64.pow(frac.len() as u32);
        let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let part: i64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
        Some(Fraction::new(whole.checked_mul(den)?.checked_add(part)?, den))
    }

    pub fn value(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    fn add(self, other: Fraction) -> Fraction {
        Fraction::new(self.num * other.den + other.num * self.den, self.den * other.den)
    }

    fn sub(self, other: Fraction) -> Fraction {
        Fraction::new(self.num * other.den - other.num * self.den, self.den * other.den)
    }
}

/// Formal oxidation state of an element in a perovskite (e); `None` for elements not in the table.
pub fn oxidation_state(symbol: &str) -> Option<i64> {
    Some(match symbol {
        "Li" | "Na" | "K" | "Rb" | "Ag" => 1,
        "Mg" | "Ca" | "Sr" | "Ba" | "Pb" => 2,
        "La" | "Pr" | "Nd" | "Sm" | "Gd" | "Y" | "Bi" | "Al" | "Ga" | "Sc" => 3,
        "Ti" | "Zr" | "Hf" | "Sn" | "Ge" => 4,
        "Nb" | "Ta" | "V" => 5,
        "W" | "Mo" => 6,
        "O" => -2,
        "F" => -1,
        VACANCY => 0,
        _ => return None,
    })
}

/// The sublattice an element usually occupies in ABO3 (used when a formula has no spaces).
fn usual_site(symbol: &str) -> Option<SiteKind> {
    match symbol {
        "Li" | "Na" | "K" | "Rb" | "Ag" | "Mg" | "Ca" | "Sr" | "Ba" | "Pb" | "La" | "Pr" | "Nd" | "Sm" | "Gd" | "Y"
        | "Bi" => Some(SiteKind::A),
        "Ti" | "Zr" | "Hf" | "Sn" | "Ge" | "Nb" | "Ta" | "V" | "W" | "Mo" | "Al" | "Ga" | "Sc" => Some(SiteKind::B),
        "O" | "F" => Some(SiteKind::O),
        _ => None,
    }
}

/// Sites of a sublattice per ABO3 formula unit.
pub fn sites_per_formula_unit(kind: SiteKind) -> i64 {
    match kind {
        SiteKind::A | SiteKind::B => 1,
        SiteKind::O => 3,
    }
}

/// The occupants of one sublattice: (symbol, amount per formula unit), vacancies (`Va`) included, amounts
/// summing to the sites per formula unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Sublattice {
    pub kind: SiteKind,
    pub occupants: Vec<(String, Fraction)>,
}

/// An ABO3 formula: the occupants of the A, B and O sublattices.
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    pub sublattices: [Sublattice; 3],
}

/// The TOML form of a formula: `[A] Li = 0.375 ...`, `[B] ...`, `[O] O = 3`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FormulaToml {
    #[serde(rename = "A")]
    a: BTreeMap<String, toml::Value>,
    #[serde(rename = "B")]
    b: BTreeMap<String, toml::Value>,
    #[serde(rename = "O")]
    o: BTreeMap<String, toml::Value>,
}

fn formula_error(formula: &str, message: String) -> Error {
    Error::Formula {
        formula: formula.to_string(),
        message,
    }
}

/// Split `Li0.375Sr0.4375Va0.1875` into (symbol, amount) terms; a missing amount is 1.
fn parse_terms(formula: &str, group: &str) -> Result<Vec<(String, Fraction)>> {
    let chars: Vec<char> = group.chars().collect();
    let mut terms = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_uppercase() {
            return Err(formula_error(
                formula,
                format!(
                    "expected an element symbol at '{}'",
                    chars[i..].iter().collect::<String>()
                ),
            ));
        }
        let start = i;
        i += 1;
        while i < chars.len() && chars[i].is_ascii_lowercase() {
            i += 1;
        }
        let symbol: String = chars[start..i].iter().collect();
        let amount_start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
            i += 1;
        }
        let amount_text: String = chars[amount_start..i].iter().collect();
        let amount = if amount_text.is_empty() {
            Fraction::new(1, 1)
        } else {
            Fraction::parse_decimal(&amount_text)
                .ok_or_else(|| formula_error(formula, format!("bad amount '{amount_text}' of {symbol}")))?
        };
        terms.push((symbol, amount));
    }
    Ok(terms)
}

fn check_symbol(formula: &str, symbol: &str) -> Result<()> {
    if symbol != VACANCY && Element::from_symbol(symbol).is_err() {
        return Err(formula_error(formula, format!("unknown element '{symbol}'")));
    }
    Ok(())
}

impl Formula {
    /// Parse `Li0.375Sr0.4375Va0.1875 Ta0.75Zr0.25 O3` (three space-separated groups: A, B and O sites) or
    /// a formula without spaces such as `Li0.29La0.57TiO3`, whose elements go to their usual sublattice.
    /// A sublattice whose amounts sum to less than its sites per formula unit is filled with vacancies.
    pub fn parse(formula: &str) -> Result<Formula> {
        let groups: Vec<&str> = formula.split_whitespace().collect();
        let mut per_kind: [Vec<(String, Fraction)>; 3] = Default::default();
        match groups.len() {
            3 => {
                for (slot, group) in per_kind.iter_mut().zip(&groups) {
                    *slot = parse_terms(formula, group)?;
                }
            }
            1 => {
                for (symbol, amount) in parse_terms(formula, groups[0])? {
                    let kind = if symbol == VACANCY {
                        SiteKind::A
                    } else {
                        usual_site(&symbol).ok_or_else(|| {
                            formula_error(
                                formula,
                                format!("no usual perovskite site for '{symbol}': give A, B and O groups separated by spaces"),
                            )
                        })?
                    };
                    per_kind[kind as usize].push((symbol, amount));
                }
            }
            n => {
                return Err(formula_error(
                    formula,
                    format!("expected 3 space-separated groups (A sites, B sites, O sites) or 1, found {n}"),
                ));
            }
        }
        Formula::from_occupants(formula, per_kind)
    }

    /// Parse the TOML form: tables `A`, `B`, `O` of symbol = amount per formula unit (`Va` for vacancies).
    pub fn from_toml(text: &str, source: &str) -> Result<Formula> {
        let parsed: FormulaToml = toml::from_str(text).map_err(|e| formula_error(source, e.to_string()))?;
        let mut per_kind: [Vec<(String, Fraction)>; 3] = Default::default();
        for (slot, (name, table)) in per_kind
            .iter_mut()
            .zip([("A", parsed.a), ("B", parsed.b), ("O", parsed.o)])
        {
            for (symbol, value) in table {
                let text = match value {
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    other => {
                        return Err(formula_error(
                            source,
                            format!("[{name}] {symbol}: {other} is not a number"),
                        ));
                    }
                };
                let amount = Fraction::parse_decimal(&text)
                    .ok_or_else(|| formula_error(source, format!("[{name}] {symbol}: bad amount {text}")))?;
                slot.push((symbol, amount));
            }
        }
        Formula::from_occupants(source, per_kind)
    }

    fn from_occupants(formula: &str, per_kind: [Vec<(String, Fraction)>; 3]) -> Result<Formula> {
        let kinds = [SiteKind::A, SiteKind::B, SiteKind::O];
        let mut sublattices = Vec::new();
        for (kind, mut occupants) in kinds.into_iter().zip(per_kind) {
            for (symbol, _) in &occupants {
                check_symbol(formula, symbol)?;
            }
            let sites = Fraction::new(sites_per_formula_unit(kind), 1);
            let total = occupants.iter().fold(Fraction::new(0, 1), |acc, (_, f)| acc.add(*f));
            let missing = sites.sub(total);
            if missing.num < 0 {
                return Err(formula_error(
                    formula,
                    format!(
                        "the {kind:?} sites hold {} per formula unit, more than {}",
                        total.value(),
                        sites.value()
                    ),
                ));
            }
            if missing.num > 0 {
                match occupants.iter_mut().find(|(s, _)| s == VACANCY) {
                    Some((_, amount)) => *amount = amount.add(missing),
                    None => occupants.push((VACANCY.to_string(), missing)),
                }
            }
            occupants.retain(|(_, f)| f.num > 0);
            sublattices.push(Sublattice { kind, occupants });
        }
        let sublattices: [Sublattice; 3] = sublattices.try_into().expect("three sublattices");
        Ok(Formula { sublattices })
    }

    pub fn sublattice(&self, kind: SiteKind) -> &Sublattice {
        &self.sublattices[kind as usize]
    }

    /// Net formal charge per formula unit (e); `None` lists the symbols without an oxidation state.
    pub fn charge_per_formula_unit(&self) -> std::result::Result<f64, Vec<String>> {
        let mut unknown = Vec::new();
        let mut charge = 0.0;
        for (symbol, amount) in self.sublattices.iter().flat_map(|s| &s.occupants) {
            match oxidation_state(symbol) {
                Some(q) => charge += q as f64 * amount.value(),
                None => unknown.push(symbol.clone()),
            }
        }
        if unknown.is_empty() { Ok(charge) } else { Err(unknown) }
    }

    /// The smallest number of formula units whose species counts are all integral.
    pub fn formula_units_for_integral_counts(&self) -> i64 {
        self.sublattices
            .iter()
            .flat_map(|s| &s.occupants)
            .fold(1, |acc, (_, f)| lcm(acc, f.den))
    }

    /// The formula as text, groups separated by spaces, e.g. `Li0.375Sr0.4375Va0.1875 Ta0.75Zr0.25 O3`.
    pub fn text(&self) -> String {
        self.sublattices
            .iter()
            .map(|s| {
                s.occupants
                    .iter()
                    .map(|(sym, f)| format!("{sym}{}", f.value()))
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Integer counts of the occupants of one sublattice over `n_sites` sites.
#[derive(Clone, Debug, PartialEq)]
pub struct SublatticeCounts {
    pub kind: SiteKind,
    /// (symbol, count), vacancies included, counts summing to the number of sites.
    pub counts: Vec<(String, usize)>,
    /// (symbol, count − exact amount) for every occupant; all zero unless rounded.
    pub deviations: Vec<(String, f64)>,
}

/// Integer counts of one sublattice with `n_sites` sites: exact when every occupancy × sites is integral;
/// otherwise, with `round`, the largest-remainder rounding (counts still sum to `n_sites`), and without it
/// an error that names the smallest number of formula units that makes them integral.
pub fn sublattice_counts(formula: &Formula, kind: SiteKind, n_sites: usize, round: bool) -> Result<SublatticeCounts> {
    let sublattice = formula.sublattice(kind);
    let per_site = sites_per_formula_unit(kind);
    let exact: Vec<f64> = sublattice
        .occupants
        .iter()
        .map(|(_, f)| f.value() / per_site as f64 * n_sites as f64)
        .collect();
    let integral = sublattice
        .occupants
        .iter()
        .all(|(_, f)| (f.num * n_sites as i64) % (f.den * per_site) == 0);
    if !integral && !round {
        let needed = formula.formula_units_for_integral_counts();
        let (symbol, amount) = sublattice
            .occupants
            .iter()
            .zip(&exact)
            .find(|(_, x)| x.fract() != 0.0)
            .map(|((s, _), x)| (s.clone(), *x))
            .unwrap_or_default();
        return Err(Error::NotIntegral {
            message: format!(
                "{n_sites} {kind:?} sites would hold {amount} {symbol}; integral counts need a multiple of {needed} \
                 formula units, e.g. a {} supercell (or round the counts)",
                smallest_supercell_text(needed)
            ),
        });
    }
    let mut counts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut order: Vec<usize> = (0..exact.len()).collect();
    order.sort_by(|&i, &j| (exact[j] - exact[j].floor()).total_cmp(&(exact[i] - exact[i].floor())));
    let missing = n_sites - counts.iter().sum::<usize>();
    for &i in order.iter().take(missing) {
        counts[i] += 1;
    }
    Ok(SublatticeCounts {
        kind,
        counts: sublattice
            .occupants
            .iter()
            .map(|(s, _)| s.clone())
            .zip(counts.iter().copied())
            .collect(),
        deviations: sublattice
            .occupants
            .iter()
            .zip(counts.iter().zip(&exact))
            .map(|((s, _), (c, x))| (s.clone(), *c as f64 - x))
            .collect(),
    })
}

/// The most cubic n1 × n2 × n3 (n1 ≤ n2 ≤ n3, smallest n1² + n2² + n3²) with n1·n2·n3 = `cells`.
pub fn most_cubic_factorisation(cells: i64) -> [i64; 3] {
    let mut best = [1, 1, cells];
    for n1 in 1..=cells {
        if n1 * n1 * n1 > cells {
            break;
        }
        if cells % n1 != 0 {
            continue;
        }
        for n2 in n1..=cells / n1 {
            if n2 * n2 > cells / n1 {
                break;
            }
            if (cells / n1) % n2 == 0 {
                let n3 = cells / n1 / n2;
                if n1 * n1 + n2 * n2 + n3 * n3 < best.iter().map(|n| n * n).sum() {
                    best = [n1, n2, n3];
                }
            }
        }
    }
    best
}

fn smallest_supercell_text(cells: i64) -> String {
    let [n1, n2, n3] = most_cubic_factorisation(cells);
    format!("{n1}x{n2}x{n3}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LSTZ: &str = "Li0.375Sr0.4375Va0.1875 Ta0.75Zr0.25 O3";

    #[test]
    fn lstz_needs_16_formula_units_and_is_neutral() {
        let f = Formula::parse(LSTZ).unwrap();
        assert_eq!(f.formula_units_for_integral_counts(), 16);
        assert_eq!(
            f.sublattice(SiteKind::A).occupants[1],
            ("Sr".to_string(), Fraction::new(7, 16))
        );
        assert!(f.charge_per_formula_unit().unwrap().abs() < 1e-12);
        assert_eq!(most_cubic_factorisation(16), [2, 2, 4]);
        let a = sublattice_counts(&f, SiteKind::A, 32, false).unwrap();
        assert_eq!(a.counts, vec![("Li".into(), 12), ("Sr".into(), 14), ("Va".into(), 6)]);
        let o = sublattice_counts(&f, SiteKind::O, 96, false).unwrap();
        assert_eq!(o.counts, vec![("O".into(), 96)]);
    }

    #[test]
    fn llto_without_spaces_fills_a_vacancies_and_needs_100_sites() {
        let f = Formula::parse("Li0.29La0.57TiO3").unwrap();
        let a = &f.sublattice(SiteKind::A).occupants;
        assert_eq!(a[2], ("Va".to_string(), Fraction::new(14, 100)));
        assert_eq!(f.formula_units_for_integral_counts(), 100);
        assert_eq!(most_cubic_factorisation(100), [4, 5, 5]);
        assert!(f.charge_per_formula_unit().unwrap().abs() < 1e-12);
        let err = sublattice_counts(&f, SiteKind::A, 64, false).unwrap_err().to_string();
        assert!(err.contains("multiple of 100") && err.contains("4x5x5"), "{err}");
        let rounded = sublattice_counts(&f, SiteKind::A, 64, true).unwrap();
        let total: usize = rounded.counts.iter().map(|(_, c)| c).sum();
        assert_eq!(total, 64);
        // 0.29·64 = 18.56, 0.57·64 = 36.48, 0.14·64 = 8.96: largest remainders go up.
        assert_eq!(
            rounded.counts,
            vec![("Li".into(), 19), ("La".into(), 36), ("Va".into(), 9)]
        );
        assert!((rounded.deviations[0].1 - 0.44).abs() < 1e-9);
    }

    #[test]
    fn toml_form_equals_text_form() {
        let text = "[A]\nLi = 0.375\nSr = 0.4375\nVa = 0.1875\n[B]\nTa = 0.75\nZr = 0.25\n[O]\nO = 3\n";
        let from_toml = Formula::from_toml(text, "f.toml").unwrap();
        let mut from_text = Formula::parse(LSTZ).unwrap();
        for s in from_text.sublattices.iter_mut() {
            s.occupants.sort_by(|a, b| a.0.cmp(&b.0));
        }
        assert_eq!(from_toml, from_text);
    }

    #[test]
    fn charge_imbalance_and_bad_input_are_reported() {
        let f = Formula::parse("Sr0.5Va0.5 Ti O3").unwrap();
        assert!((f.charge_per_formula_unit().unwrap() + 1.0).abs() < 1e-12);
        for (bad, needle) in [
            ("Li0.6Sr0.6 Ti O3", "more than 1"),
            ("Xx Ti O3", "unknown element 'Xx'"),
            ("Sr Ti", "expected 3"),
            ("Sr0.5.5 Ti O3", "bad amount"),
            ("Sr 7i O3", "expected an element symbol"),
        ] {
            let err = Formula::parse(bad).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }
}
