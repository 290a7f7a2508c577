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
        // Damage either makes the bundle fail, hits bytes that carry no content (same digest,
        // same objects), or edits the manifest into another valid bundle, which then has another
        // digest and is refused where the original digest is expected.
        if open_bytes(&bytes) {
            let tmp = tempfile::tempdir().unwrap();
            let damaged = tmp.path().join("x.tar");
            std::fs::write(&damaged, &bytes).unwrap();
            let original_path = tmp.path().join("o.tar");
            std::fs::write(&original_path, good_tar()).unwrap();
            let bundle = Bundle::open(&damaged).unwrap();
            let original = Bundle::open(&original_path).unwrap();
            if bundle.digest() == original.digest() {
                let values = |b: &Bundle| b.objects().map(|o| o.value.clone()).collect::<Vec<_>>();
                prop_assert_eq!(values(&bundle), values(&original));
            } else {
                prop_assert!(Bundle::open_expecting(&damaged, original.digest()).is_err());
            }
        }
    }
}
