//! Chart file bytes shared without copies: a big chart is megabytes of files, and on a machine
//! where touching a fresh page costs microseconds, reading a file into a `Vec` and copying it into
//! the `Arc` that `.Files` and the template set share touched every page twice.
//!
//! Templates are read into shared memory (the parser keeps their text). Big other files (CRDs,
//! values, archives, dashboards) are mapped instead: their pages come from the page cache many at
//! a time, and a file no template reads (a README) is never touched at all.

use std::io::Read;
use std::ops::Deref;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// Files from this size on are mapped rather than read, when they may be: a mapped file's pages
/// are touched 16 at a time (or never, for a file nobody reads), a read one's one by one.
const MAP_FROM: u64 = 16 << 10;

/// The bytes of a chart file, cheap to clone.
#[derive(Clone)]
pub struct FileData(Repr);

#[derive(Clone)]
enum Repr {
    Shared(Arc<[u8]>),
    Mapped(Arc<Mapped>),
}

struct Mapped {
    map: memmap2::Mmap,
    /// A copy for callers that need an `Arc<[u8]>` (`.Files.GetBytes`), made once.
    shared: OnceLock<Arc<[u8]>>,
}

impl FileData {
    /// The bytes as an `Arc<[u8]>` (a copy, made once, for a mapped file).
    pub fn shared(&self) -> Arc<[u8]> {
        match &self.0 {
            Repr::Shared(a) => a.clone(),
            Repr::Mapped(m) => m.shared.get_or_init(|| Arc::from(&m.map[..])).clone(),
        }
    }

    /// Whether `a` and `b` are the same file's bytes (clones of one another).
    pub fn ptr_eq(a: &FileData, b: &FileData) -> bool {
        match (&a.0, &b.0) {
            (Repr::Shared(x), Repr::Shared(y)) => Arc::ptr_eq(x, y),
            (Repr::Mapped(x), Repr::Mapped(y)) => Arc::ptr_eq(x, y),
            _ => false,
        }
    }

    /// The text of the bytes, sharing their storage when they are read and UTF-8 (templates),
    /// else with U+FFFD replacements like [`crate::render::file_text`].
    pub(crate) fn text(&self) -> Arc<str> {
        match &self.0 {
            Repr::Shared(a) => shared_text(a),
            Repr::Mapped(m) => Arc::from(String::from_utf8_lossy(&m.map).as_ref()),
        }
    }
}

impl Deref for FileData {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Shared(a) => a,
            Repr::Mapped(m) => &m.map,
        }
    }
}

impl AsRef<[u8]> for FileData {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::fmt::Debug for FileData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileData({} bytes)", self.len())
    }
}

impl From<Arc<[u8]>> for FileData {
    fn from(a: Arc<[u8]>) -> FileData {
        FileData(Repr::Shared(a))
    }
}

impl From<Vec<u8>> for FileData {
    fn from(v: Vec<u8>) -> FileData {
        FileData(Repr::Shared(v.into()))
    }
}

impl From<&[u8]> for FileData {
    fn from(v: &[u8]) -> FileData {
        FileData(Repr::Shared(v.into()))
    }
}

/// Reads the file at `path`: mapped when `may_map` and it is big, else straight into shared
/// storage (one allocation, no copy when the file keeps the size it had when opened).
///
/// A mapped file must not shrink while kiln runs (as with any program that maps its input); the
/// bytes are the file's at the time it is first read.
pub(crate) fn read(path: &Path, may_map: bool) -> std::io::Result<FileData> {
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if may_map && size >= MAP_FROM {
        // SAFETY: the map is read-only and private; see above about files changing under it.
        let len = usize::try_from(size).unwrap_or(usize::MAX);
        if let Ok(map) = unsafe { memmap2::MmapOptions::new().len(len).map(&file) } {
            return Ok(FileData(Repr::Mapped(Arc::new(Mapped {
                map,
                shared: OnceLock::new(),
            }))));
        }
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    read_sized(&mut file, size).map(FileData::from)
}

/// Reads `r` to its end into shared storage sized for `expected` bytes; a source shorter or longer
/// than announced is still read whole (with a copy).
pub(crate) fn read_sized(r: &mut impl Read, expected: usize) -> std::io::Result<Arc<[u8]>> {
    if expected == 0 || expected > isize::MAX as usize / 2 {
        let mut v = Vec::new();
        r.read_to_end(&mut v)?;
        return Ok(v.into());
    }
    // Zeroed memory fresh from the allocator is not written again (it comes zeroed from the
    // system), so the read below is the first touch of every page.
    // SAFETY: all-zero bytes are valid `u8`s.
    let mut data: Arc<[u8]> = unsafe { Arc::new_zeroed_slice(expected).assume_init() };
    let buf = Arc::get_mut(&mut data).expect("a new Arc is not shared");
    let mut filled = 0;
    while filled < expected {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if filled < expected {
        return Ok(Arc::from(&buf[..filled]));
    }
    // A small probe read tells the end (`read_to_end` would `stat` the file again first).
    let mut probe = [0u8; 64];
    let got = loop {
        match r.read(&mut probe) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    if got == 0 {
        return Ok(data);
    }
    let mut rest = probe[..got].to_vec();
    r.read_to_end(&mut rest)?;
    let mut all = Vec::with_capacity(expected + rest.len());
    all.extend_from_slice(&data);
    all.extend_from_slice(&rest);
    Ok(all.into())
}

/// The text of shared bytes, sharing their storage when they are UTF-8 (the common case).
fn shared_text(data: &Arc<[u8]>) -> Arc<str> {
    if std::str::from_utf8(data).is_err() {
        return Arc::from(String::from_utf8_lossy(data).as_ref());
    }
    let raw = Arc::into_raw(data.clone()) as *const str;
    // SAFETY: `str` has the layout of `[u8]` (the cast keeps the length), the bytes were just
    // checked to be UTF-8, and bytes behind an `Arc` are never mutated while it is shared (the
    // `Arc<str>` holds one of the references). This is `From<Arc<str>> for Arc<[u8]>` reversed.
    unsafe { Arc::from_raw(raw) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A reader that hands out at most `step` bytes per call.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    proptest! {
        #[test]
        fn reads_whatever_size_was_announced(
            data in proptest::collection::vec(any::<u8>(), 0..300),
            expected in 0usize..400,
            step in 1usize..64,
        ) {
            let got = read_sized(&mut Trickle(&data, step), expected).unwrap();
            prop_assert_eq!(&got[..], &data[..]);
        }

        #[test]
        fn shared_text_is_the_lossy_text(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let shared: Arc<[u8]> = data.clone().into();
            let text = shared_text(&shared);
            prop_assert_eq!(&*text, &*String::from_utf8_lossy(&data));
        }
    }

    #[test]
    fn reads_a_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        for may_map in [false, true] {
            let got = read(&path, may_map).unwrap();
            assert_eq!(&got[..], &data[..]);
            assert_eq!(&got.shared()[..], &data[..]);
            assert_eq!(&*got.text(), &*String::from_utf8_lossy(&data));
            assert!(FileData::ptr_eq(&got, &got.clone()));
            assert!(read(&dir.path().join("missing"), may_map).is_err());
        }
        std::fs::write(&path, "").unwrap();
        assert!(read(&path, true).unwrap().is_empty());
    }
}
