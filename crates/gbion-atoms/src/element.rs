//! Element data: symbols and standard atomic masses (IUPAC 2016, as ASE's `ase.data.atomic_masses`, so masses
//! agree with files written by ASE), addressed by atomic number. `Element(0)` is the dummy symbol `X`.

use crate::Error;
use std::fmt;

/// A chemical element, stored as its atomic number (0 = the dummy element `X`, as in ASE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Element(pub u8);

impl Element {
    /// The element with this symbol (case-sensitive as written in files: `Li`, `Sr`, `O`).
    /// A symbol in all capitals or all lower case (`LI`, `li`, as some codes write) is accepted too.
    pub fn from_symbol(symbol: &str) -> Result<Element, Error> {
        let trimmed = symbol.trim();
        let canonical = canonical_case(trimmed);
        ELEMENTS
            .iter()
            .position(|(s, _)| *s == canonical)
            .map(|z| Element(z as u8))
            .ok_or_else(|| Error::UnknownElement(trimmed.to_string()))
    }

    /// The element with atomic number `z` (0 ≤ z ≤ 118).
    pub fn from_number(z: usize) -> Result<Element, Error> {
        if z < ELEMENTS.len() {
            Ok(Element(z as u8))
        } else {
            Err(Error::UnknownElement(format!("Z = {z}")))
        }
    }

    /// The element whose standard mass is closest to `mass` (amu), if one lies within `tolerance` amu.
    /// Used to infer LAMMPS type → element maps from a `Masses` section.
    pub fn from_mass(mass: f64, tolerance: f64) -> Option<Element> {
        ELEMENTS
            .iter()
            .enumerate()
            .skip(1)
            .map(|(z, (_, m))| (z, (m - mass).abs()))
            .filter(|(_, d)| *d <= tolerance)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(z, _)| Element(z as u8))
    }

    /// The atomic number Z.
    pub fn number(self) -> u8 {
        self.0
    }

    /// The chemical symbol, e.g. `"Li"`.
    pub fn symbol(self) -> &'static str {
        ELEMENTS[self.0 as usize].0
    }

    /// The standard atomic mass in amu (IUPAC 2016, as ASE).
    pub fn mass(self) -> f64 {
        ELEMENTS[self.0 as usize].1
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl std::str::FromStr for Element {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Element::from_symbol(s)
    }
}

/// `LI` or `li` → `Li`; symbols already in mixed case are returned as they are.
fn canonical_case(symbol: &str) -> String {
    let all_upper = symbol.chars().all(|c| !c.is_ascii_lowercase());
    let all_lower = symbol.chars().all(|c| !c.is_ascii_uppercase());
    if all_lower || (symbol.len() > 1 && all_upper) {
        let mut chars = symbol.chars();
        match chars.next() {
            Some(first) => first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase(),
            None => String::new(),
        }
    } else {
        symbol.to_string()
    }
}

/// Symbol and standard atomic mass (amu) by atomic number, from ASE 3.29 `ase.data.atomic_masses_iupac2016`.
const ELEMENTS: [(&str, f64); 119] = [
    ("X", 1.0),
    ("H", 1.008),
    ("He", 4.002602),
    ("Li", 6.94),
    ("Be", 9.0121831),
    ("B", 10.81),
    ("C", 12.011),
    ("N", 14.007),
    ("O", 15.999),
    ("F", 18.998403163),
    ("Ne", 20.1797),
    ("Na", 22.98976928),
    ("Mg", 24.305),
    ("Al", 26.9815385),
    ("Si", 28.085),
    ("P", 30.973761998),
    ("S", 32.06),
    ("Cl", 35.45),
    ("Ar", 39.948),
    ("K", 39.0983),
    ("Ca", 40.078),
    ("Sc", 44.955908),
    ("Ti", 47.867),
    ("V", 50.9415),
    ("Cr", 51.9961),
    ("Mn", 54.938044),
    ("Fe", 55.845),
    ("Co", 58.933194),
    ("Ni", 58.6934),
    ("Cu", 63.546),
    ("Zn", 65.38),
    ("Ga", 69.723),
    ("Ge", 72.63),
    ("As", 74.921595),
    ("Se", 78.971),
    ("Br", 79.904),
    ("Kr", 83.798),
    ("Rb", 85.4678),
    ("Sr", 87.62),
    ("Y", 88.90584),
    ("Zr", 91.224),
    ("Nb", 92.90637),
    ("Mo", 95.95),
    ("Tc", 97.90721),
    ("Ru", 101.07),
    ("Rh", 102.9055),
    ("Pd", 106.42),
    ("Ag", 107.8682),
    ("Cd", 112.414),
    ("In", 114.818),
    ("Sn", 118.71),
    ("Sb", 121.76),
    ("Te", 127.6),
    ("I", 126.90447),
    ("Xe", 131.293),
    ("Cs", 132.90545196),
    ("Ba", 137.327),
    ("La", 138.90547),
    ("Ce", 140.116),
    ("Pr", 140.90766),
    ("Nd", 144.242),
    ("Pm", 144.91276),
    ("Sm", 150.36),
    ("Eu", 151.964),
    ("Gd", 157.25),
    ("Tb", 158.92535),
    ("Dy", 162.5),
    ("Ho", 164.93033),
    ("Er", 167.259),
    ("Tm", 168.93422),
    ("Yb", 173.054),
    ("Lu", 174.9668),
    ("Hf", 178.49),
    ("Ta", 180.94788),
    ("W", 183.84),
    ("Re", 186.207),
    ("Os", 190.23),
    ("Ir", 192.217),
    ("Pt", 195.084),
    ("Au", 196.966569),
    ("Hg", 200.592),
    ("Tl", 204.38),
    ("Pb", 207.2),
    ("Bi", 208.9804),
    ("Po", 208.98243),
    ("At", 209.98715),
    ("Rn", 222.01758),
    ("Fr", 223.01974),
    ("Ra", 226.02541),
    ("Ac", 227.02775),
    ("Th", 232.0377),
    ("Pa", 231.03588),
    ("U", 238.02891),
    ("Np", 237.04817),
    ("Pu", 244.06421),
    ("Am", 243.06138),
    ("Cm", 247.07035),
    ("Bk", 247.07031),
    ("Cf", 251.07959),
    ("Es", 252.083),
    ("Fm", 257.09511),
    ("Md", 258.09843),
    ("No", 259.101),
    ("Lr", 262.11),
    ("Rf", 267.122),
    ("Db", 268.126),
    ("Sg", 271.134),
    ("Bh", 270.133),
    ("Hs", 269.1338),
    ("Mt", 278.156),
    ("Ds", 281.165),
    ("Rg", 281.166),
    ("Cn", 285.177),
    ("Nh", 286.182),
    ("Fl", 289.19),
    ("Mc", 289.194),
    ("Lv", 293.204),
    ("Ts", 293.208),
    ("Og", 294.214),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_numbers_and_masses_agree() {
        let li = Element::from_symbol("Li").unwrap();
        assert_eq!(li.number(), 3);
        assert_eq!(li.mass(), 6.94);
        assert_eq!(Element::from_symbol("O").unwrap().mass(), 15.999);
        assert_eq!(Element::from_symbol("Ta").unwrap().number(), 73);
        assert_eq!(Element::from_number(38).unwrap().symbol(), "Sr");
        assert_eq!(Element::from_symbol("ZR").unwrap().symbol(), "Zr");
        assert_eq!(Element::from_symbol("la").unwrap().symbol(), "La");
    }

    #[test]
    fn unknown_symbols_are_errors() {
        assert!(Element::from_symbol("Qq").is_err());
        assert!(Element::from_symbol("").is_err());
        assert!(Element::from_number(119).is_err());
    }

    #[test]
    fn mass_lookup_finds_the_nearest_element() {
        assert_eq!(Element::from_mass(87.62, 0.01).unwrap().symbol(), "Sr");
        assert_eq!(Element::from_mass(180.95, 0.1).unwrap().symbol(), "Ta");
        assert_eq!(Element::from_mass(16.0, 0.01), Some(Element(8)));
        assert_eq!(Element::from_mass(500.0, 0.5), None);
    }
}
