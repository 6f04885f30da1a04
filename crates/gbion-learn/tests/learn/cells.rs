//! Small test cells for the published rigid-ion set `builtin:pedone2006` (Pedone et al., J. Phys. Chem. B
//! 110, 11780 (2006); species Li, Ca, Sr, Ti, Zr, O).

use gbion_atoms::{Cell, Element, Structure};
use gbion_potentials::rigid_ion::{RigidIon, builtin};

/// The shipped pedone2006 set.
pub fn pedone() -> RigidIon {
    RigidIon::from_toml(builtin("pedone2006").unwrap(), "builtin:pedone2006").unwrap()
}

/// Rocksalt CaO, one conventional cell (8 atoms) at pedone2006's lattice constant 4.7748 Å (the LAMMPS
/// `pair_style pedone` example), every atom displaced by a deterministic `rattle` pattern (Å).
pub fn cao(rattle: f64) -> Structure {
    let a = 4.7748;
    let fcc = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
    let (mut elements, mut positions) = (Vec::new(), Vec::new());
    for (symbol, offset) in [("Ca", 0.0), ("O", 0.5)] {
        for b in fcc {
            let i = positions.len() as f64;
            elements.push(Element::from_symbol(symbol).unwrap());
            positions.push([
                (b[0] + offset) * a + rattle * (1.3 * i).sin(),
                b[1] * a + rattle * (2.1 * i + 0.4).sin(),
                b[2] * a + rattle * (0.7 * i + 1.1).cos(),
            ]);
        }
    }
    Structure::new(Cell::orthorhombic([a; 3]).unwrap(), elements, positions).unwrap()
}

/// Cubic perovskite (Ca,Sr)TiO3: two cells along x (10 atoms, a = 3.9 Å), A sites Ca and Sr.
pub fn ca_sr_tio3() -> Structure {
    let a = 3.9;
    let (mut elements, mut positions) = (Vec::new(), Vec::new());
    for (cell, a_site) in ["Ca", "Sr"].into_iter().enumerate() {
        let x0 = cell as f64;
        for (symbol, f) in [
            (a_site, [0.0, 0.0, 0.0]),
            ("Ti", [0.5, 0.5, 0.5]),
            ("O", [0.5, 0.5, 0.0]),
            ("O", [0.5, 0.0, 0.5]),
            ("O", [0.0, 0.5, 0.5]),
        ] {
            elements.push(Element::from_symbol(symbol).unwrap());
            positions.push([(x0 + f[0]) * a, f[1] * a, f[2] * a]);
        }
    }
    Structure::new(Cell::orthorhombic([2.0 * a, a, a]).unwrap(), elements, positions).unwrap()
}
