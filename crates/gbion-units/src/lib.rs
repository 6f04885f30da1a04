//! Quantities with explicit units in user input (`"0.5 nm"`, `"59 h"`, `"2.6e-8 cm^2/s"`, `"1573 K"`).
//! A bare number means the documented default unit of the field that reads it.
