//! Bad input never panics: random bytes, and real bundles with a byte flipped or cut short,
//! always give an error or a report.

mod common;

use kiln_bundle::{Bundle, verify, write_tar};
use proptest::prelude::*;
use std::sync::OnceLock;

fn good_tar() -> &'static Vec<u8> {
    static TAR: OnceLock<Vec<u8>> = OnceLock::new();
    TAR.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("b.tar");
        write_tar(&common::spec(), &path).unwrap();
        std::fs::read(path).unwrap()
    })
}

fn open_bytes(bytes: &[u8]) -> bool {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x.tar");
    std::fs::write(&path, bytes).unwrap();
    let _ = verify(&path);
    Bundle::open(&path).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(!open_bytes(&bytes));
    }

    #[test]
    fn a_flipped_or_cut_tar_never_opens_silently_wrong(at in any::<prop::sample::Index>(), bit in 0u8..8, cut in any::<bool>()) {
        let mut bytes = good_tar().clone();
        let i = at.index(bytes.len());
        if cut {
            bytes.truncate(i);
        } else {
            bytes[i] ^= 1 << bit;
        }
        // Either the damage hit padding (and the bundle is intact) or opening fails.
        if open_bytes(&bytes) {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("x.tar");
            std::fs::write(&path, &bytes).unwrap();
            let bundle = Bundle::open(&path).unwrap();
            let original = {
                let p = tmp.path().join("o.tar");
                std::fs::write(&p, good_tar()).unwrap();
                Bundle::open(&p).unwrap()
            };
            prop_assert_eq!(bundle.digest(), original.digest());
            prop_assert_eq!(bundle.manifest(), original.manifest());
        }
    }
}
