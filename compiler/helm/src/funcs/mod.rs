//! The function library templates see: all of Sprig v3 (minus `env`/`expandenv`, which Helm
//! removes) plus Helm's own functions.

mod collections;
pub mod conv;
mod crypto;
pub mod dates;
pub mod encoding;
mod flow;
mod goregex;
mod helm;
mod masterpassword;
mod math;
pub mod random;
mod strings;
mod text;

use std::sync::{Arc, OnceLock};

use kiln_gotemplate::FuncMap;

/// Every function Helm gives templates, built once and shared: template sets made with it
/// (`Templates::with_shared_funcs`) copy no map of hundreds of names and functions.
pub fn func_map() -> Arc<FuncMap> {
    static MAP: OnceLock<Arc<FuncMap>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = FuncMap::new();
        strings::register(&mut m);
        collections::register(&mut m);
        math::register(&mut m);
        flow::register(&mut m);
        text::register(&mut m);
        encoding::register(&mut m);
        dates::register(&mut m);
        masterpassword::register(&mut m);
        helm::register(&mut m);
        // They draw from a generator in the render state: each call gives something new.
        let mut stateful = FuncMap::new();
        random::register(&mut stateful);
        crypto::register(&mut stateful);
        stateful.mark_stateful();
        m.extend(stateful);
        Arc::new(m)
    })
    .clone()
}
