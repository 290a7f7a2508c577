//! Sprig's random functions made reproducible: `randAlphaNum`, `randAlpha`, `randNumeric`,
//! `randAscii`, `randInt`, `randBytes`, `shuffle` and `uuidv4` draw from a ChaCha PRNG that kiln
//! seeds from the release name, the chart and the template path (see [`crate::render::RenderState`]).
//! Output has the shape Helm's has (length, alphabet, UUID version bits) but is the same on every
//! build of the same inputs, which keeps bundles reproducible.

use base64::Engine;
use kiln_gotemplate::{ArgType as A, CallContext, FuncError, FuncMap, Signature, Value};
use rand::{Rng, RngCore};

use crate::render::RenderState;

fn with_rng<T>(
    ctx: &mut CallContext<'_>,
    f: impl FnOnce(&mut rand_chacha::ChaCha8Rng) -> T,
) -> Result<T, FuncError> {
    match ctx.state::<RenderState>() {
        Some(st) => Ok(f(&mut st.rng)),
        None => {
            let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
            Ok(f(&mut rng))
        }
    }
}

fn rand_from(ctx: &mut CallContext<'_>, n: i64, alphabet: &[u8]) -> Result<Value, FuncError> {
    let n = n.max(0) as usize;
    with_rng(ctx, |rng| {
        (0..n)
            .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
            .collect::<String>()
            .into()
    })
}

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";

/// A random (version 4) UUID from the PRNG.
pub fn uuid(rng: &mut impl RngCore) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub fn register(m: &mut FuncMap) {
    let alnum: Vec<u8> = [LOWER, UPPER, DIGITS].concat();
    let alpha: Vec<u8> = [LOWER, UPPER].concat();
    let ascii: Vec<u8> = (32u8..=126).collect();
    m.insert(
        "randAlphaNum",
        Signature::fixed(&[A::Int]),
        move |ctx, a| rand_from(ctx, a[0].as_i64().unwrap_or(0), &alnum),
    );
    m.insert("randAlpha", Signature::fixed(&[A::Int]), move |ctx, a| {
        rand_from(ctx, a[0].as_i64().unwrap_or(0), &alpha)
    });
    m.insert("randNumeric", Signature::fixed(&[A::Int]), |ctx, a| {
        rand_from(ctx, a[0].as_i64().unwrap_or(0), DIGITS)
    });
    m.insert("randAscii", Signature::fixed(&[A::Int]), move |ctx, a| {
        rand_from(ctx, a[0].as_i64().unwrap_or(0), &ascii)
    });
    m.insert("randInt", Signature::fixed(&[A::Int, A::Int]), |ctx, a| {
        let (lo, hi) = (a[0].as_i64().unwrap_or(0), a[1].as_i64().unwrap_or(0));
        if hi <= lo {
            return Err(FuncError::new("invalid argument to Intn"));
        }
        with_rng(ctx, |rng| Value::Int(rng.random_range(lo..hi)))
    });
    m.insert("randBytes", Signature::fixed(&[A::Int]), |ctx, a| {
        let n = a[0].as_i64().unwrap_or(0).max(0) as usize;
        with_rng(ctx, |rng| {
            let mut b = vec![0u8; n];
            rng.fill_bytes(&mut b);
            base64::engine::general_purpose::STANDARD.encode(b).into()
        })
    });
    m.insert("shuffle", Signature::fixed(&[A::String]), |ctx, a| {
        let mut chars: Vec<char> = a[0].as_str().unwrap_or_default().chars().collect();
        with_rng(ctx, |rng| {
            for i in (1..chars.len()).rev() {
                let j = rng.random_range(0..=i);
                chars.swap(i, j);
            }
            chars.into_iter().collect::<String>().into()
        })
    });
    m.insert("uuidv4", Signature::fixed(&[]), |ctx, _| {
        with_rng(ctx, |rng| uuid(rng).into())
    });
}
