//! Sprig's crypto helpers. Filled in below.

use kiln_gotemplate::FuncMap;

pub fn register(_m: &mut FuncMap) {}
